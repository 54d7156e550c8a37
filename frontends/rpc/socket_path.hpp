#pragma once
// The socket file's life: checks before bind (length, what already sits at the path),
// owner-only permissions before listen, and removal on stop only if it is still ours.
#include <sys/types.h>

#include <filesystem>

namespace veil::rpc {

/// Makes `path` ready for bind. Throws std::runtime_error (with the path) when it is too long
/// for a Unix socket address, exists and is not a socket, or is a socket someone listens on.
/// A stale socket (nobody listening) is removed.
void prepare_socket_path(const std::filesystem::path& path);

/// Identity of the socket file we bound (device and inode), so stop removes only our own.
struct SocketFile {
    dev_t dev = 0;
    ino_t ino = 0;
};

/// chmod 0600 and record the file's identity. Throws std::runtime_error on failure.
SocketFile restrict_socket_file(const std::filesystem::path& path);

/// Removes `path` if it is still the file `ours` (a later daemon's socket is left alone).
void remove_socket_file(const std::filesystem::path& path, const SocketFile& ours);

}  // namespace veil::rpc
