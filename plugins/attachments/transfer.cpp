#include "transfer.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "veil/crypto/random.hpp"
#include "sealed_blob.hpp"
#include "veil/proto/manifest.hpp"
#include "veil/sdk/network.hpp"
#include "veil/sdk/transport.hpp"

namespace veil::attachments {

namespace fs = std::filesystem;
namespace tr = sdk::transport;
namespace sa = sdk::attachment;
namespace as = proto::blob;
using sdk::ErrorCode;

std::string megabytes(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    std::string s(buf);
    if (s.size() > 5 && s.compare(s.size() - 5, 5, ".0 MB") == 0) s.erase(s.size() - 5, 2);  // "10 MB"
    return s;
}

std::string safe_file_name(std::string_view name) {
    auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string out;
    for (unsigned char c : name)
        if (c >= 0x20 && c != 0x7f) out.push_back(static_cast<char>(c));
    while (!out.empty() && out.front() == '.') out.erase(out.begin());  // no hidden files, no ".."
    if (out.size() > 200) out.resize(200);
    return out.empty() ? std::string("attachment") : out;
}

std::string neutral_file_name(std::string_view mime_type) {
    static constexpr std::pair<std::string_view, std::string_view> names[] = {
        {"image/jpeg", "image.jpg"},      {"image/png", "image.png"},   {"image/webp", "image.webp"},
        {"image/gif", "image.gif"},       {"image/tiff", "image.tif"},  {"image/heic", "image.heic"},
        {"image/avif", "image.avif"},     {"video/mp4", "video.mp4"},   {"video/quicktime", "video.mov"},
        {"audio/mp4", "audio.m4a"},       {"audio/mpeg", "audio.mp3"},  {"application/pdf", "file.pdf"},
        {"text/plain", "file.txt"},       {"audio/flac", "audio.flac"}, {"audio/ogg", "audio.ogg"},
    };
    for (const auto& [type, name] : names)
        if (type == mime_type) return std::string(name);
    return "file";
}

std::string guess_mime_type(const std::vector<std::uint8_t>& h, std::string_view name) {
    auto starts = [&](std::initializer_list<int> magic, std::size_t at = 0) {
        if (h.size() < at + magic.size()) return false;
        std::size_t i = at;
        for (int m : magic)
            if (h[i++] != m) return false;
        return true;
    };
    if (starts({0xff, 0xd8, 0xff})) return "image/jpeg";
    if (starts({0x89, 'P', 'N', 'G'})) return "image/png";
    if (starts({'R', 'I', 'F', 'F'}) && starts({'W', 'E', 'B', 'P'}, 8)) return "image/webp";
    if (starts({'G', 'I', 'F', '8'})) return "image/gif";
    if (starts({'%', 'P', 'D', 'F'})) return "application/pdf";
    // Audio sent with --keep-metadata: a type, so the neutral name says what it is.
    if (starts({'f', 'L', 'a', 'C'})) return "audio/flac";
    if (starts({'O', 'g', 'g', 'S'})) return "audio/ogg";
    auto dot = name.find_last_of('.');
    std::string ext = dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "txt") return "text/plain";
    if (ext == "mp4") return "video/mp4";
    if (ext == "mp3") return "audio/mpeg";
    return "application/octet-stream";
}

namespace {

std::uint64_t chunk_bytes_done(std::uint64_t total, std::uint32_t next) {
    return std::min<std::uint64_t>(total, std::uint64_t{next} * as::kChunkBytes);
}

// Creates `path` (0600) and writes `data` to it; false when it exists. Nothing is left of a
// file that could not be written whole.
bool write_exclusive(const fs::path& path, const std::uint8_t* data, std::size_t n) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) return false;
    if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    std::size_t off = 0;
    while (off < n) {
        auto w = ::write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            ::close(fd);
            fs::remove(path);
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(e));
        }
        off += static_cast<std::size_t>(w);
    }
    ::fsync(fd);
    ::close(fd);
    return true;
}

// Writes `bytes` to a new file (0600) named after `name` under `dir`, never over another file.
std::string write_new_file(const fs::path& dir, const std::string& name, const std::uint8_t* data, std::size_t n) {
    fs::create_directories(dir);
    auto dot = name.find_last_of('.');
    std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
    for (int i = 0; i < 10'000; ++i) {
        auto path = dir / (i == 0 ? name : stem + " (" + std::to_string(i) + ")" + ext);
        if (write_exclusive(path, data, n)) return path.string();
    }
    throw std::runtime_error("too many files named " + name);
}

// Reads a kept blob (at most what the store would hold).
Bytes read_blob(const fs::path& path) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) throw std::runtime_error("the kept copy " + path.string() + " cannot be read: " + ec.message());
    if (size > as::kMaxBlobBytes) throw SealError("the kept copy is larger than any attachment");
    Bytes blob(static_cast<std::size_t>(size));
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
    if (!in || in.gcount() != static_cast<std::streamsize>(blob.size()))
        throw std::runtime_error("the kept copy " + path.string() + " cannot be read");
    return blob;
}

}  // namespace

struct Transfers::Upload {
    Upload(sa::UploadAttachment query, sdk::Responder<sa::AttachmentRef> r) : q(std::move(query)), reply(std::move(r)) {}
    sa::UploadAttachment q;
    sdk::Responder<sa::AttachmentRef> reply;
    std::vector<std::uint8_t> bytes;  // the file, then the processed file
    std::string mime_type;
    std::string notice;  // what processors that left the file untouched said, for the sender
    SealedBlob sealed;
    std::vector<Member> members;
    std::size_t member = 0;
    std::uint32_t next = 0;
    sdk::Error last{ErrorCode::unreachable, "no member of the swarm answered"};
};

struct Transfers::Download {
    Download(sa::DownloadAttachment query, sdk::Responder<sa::DownloadedAttachment> r)
        : q(std::move(query)), reply(std::move(r)) {}
    sa::DownloadAttachment q;
    sdk::Responder<sa::DownloadedAttachment> reply;
    std::vector<Member> members;
    std::size_t member = 0;
    std::uint64_t total = 0;
    std::uint32_t next = 0;
    Bytes blob;
    bool all_not_found = true;
    std::set<std::string> gone;  // members that do not hold it: not asked again
    sdk::Error last{ErrorCode::unreachable, "no member of the swarm answered"};
};

Transfers::Transfers(sdk::Context& ctx, TransferSettings settings) : ctx_(ctx), settings_(std::move(settings)) {
    if (settings_.processors.empty())
        ctx_.log().warn("no attachment processor configured: files are sent as they are (metadata included)");
}

Transfers::~Transfers() { *alive_ = false; }

void Transfers::progress(const std::string& transfer_id, bool upload, std::uint64_t done, std::uint64_t total) {
    ctx_.bus().publish(sa::TransferProgress{transfer_id, upload, done, total});
}

void Transfers::upload(const sa::UploadAttachment& q, sdk::Responder<sa::AttachmentRef> reply) {
    auto up = std::make_shared<Upload>(q, std::move(reply));
    auto err = std::make_shared<std::optional<sdk::Error>>();
    const auto limit = settings_.max_file_bytes;
    // Read on the worker pool; the size is checked before the file is read at all.
    ctx_.run_blocking(
        [up, err, limit] {
            std::error_code ec;
            auto size = fs::file_size(up->q.path, ec);
            if (ec || !fs::is_regular_file(up->q.path)) {
                *err = sdk::Error{ErrorCode::io, "cannot read the file: " + (ec ? ec.message() : "not a regular file")};
                return;
            }
            if (size > limit) {
                *err = sdk::Error{ErrorCode::too_large, "file is " + megabytes(size) + "; the limit is " + megabytes(limit)};
                return;
            }
            std::ifstream in(up->q.path, std::ios::binary);
            up->bytes.resize(size);
            in.read(reinterpret_cast<char*>(up->bytes.data()), static_cast<std::streamsize>(size));
            if (static_cast<std::uint64_t>(in.gcount()) != size) *err = sdk::Error{ErrorCode::io, "cannot read the file"};
        },
        [this, alive = alive_, up, err](std::exception_ptr e) {
            if (!*alive) return;  // stopped: the Transfers object is gone
            if (e && !*err) *err = sdk::Error{ErrorCode::io, "cannot read the file"};
            if (*err) return up->reply.fail(**err);
            up->mime_type = up->q.mime_type;
            process(up, 0);
        });
}

// The processors, one after the other; each may rewrite the bytes (and correct the type).
void Transfers::process(std::shared_ptr<Upload> up, std::size_t step) {
    if (step == settings_.processors.size()) {
        if (up->mime_type.empty()) up->mime_type = guess_mime_type(up->bytes, up->q.path);
        return seal_and_send(std::move(up));
    }
    const auto& name = settings_.processors[step];
    sa::ProcessAttachment p{up->bytes, up->mime_type, up->q.keep_metadata};
    bool asked = ctx_.bus().request<sa::ProcessAttachment>(
        std::move(p), settings_.chunk_timeout_ms,
        [this, alive = alive_, up, step, name](sdk::Result<sa::ProcessedAttachment> r) {
            if (!*alive) return;
            if (!r) {
                if (r.error().code == ErrorCode::no_handler)
                    return up->reply.fail(ErrorCode::refused, "attachment processor '" + name +
                                                                  "' is not running: enable its plugin, or set "
                                                                  "attachments.processors = [] to send files unprocessed");
                return up->reply.fail(r.error().code == ErrorCode::bad_input ? ErrorCode::bad_input : r.error().code,
                                      r.error().message);
            }
            auto out = std::move(r).value();
            for (const auto& rep : out.reports) {
                if (rep.modified) continue;
                // The detail names the content's kind (a PDF, FLAC audio...): the sender sees it in
                // the notice, the log does not keep it. Only the processor's name, at debug.
                ctx_.log().debug("{}: file passed unmodified", rep.processor);
                up->notice += (up->notice.empty() ? "" : "; ") + rep.detail;
            }
            if (out.bytes.size() > settings_.max_file_bytes)
                return up->reply.fail(ErrorCode::too_large, "processed file is " + megabytes(out.bytes.size()) +
                                                                "; the limit is " + megabytes(settings_.max_file_bytes));
            up->bytes = std::move(out.bytes);
            if (!out.mime_type.empty()) up->mime_type = std::move(out.mime_type);
            process(up, step + 1);
        },
        name);
    if (!asked) up->reply.fail(ErrorCode::closed, "the bus is closed");
}

void Transfers::seal_and_send(std::shared_ptr<Upload> up) {
    ctx_.run_blocking(
        [up] {
            up->sealed = seal(up->bytes);
            sodium_memzero(up->bytes.data(), up->bytes.size());
            up->bytes.clear();
            up->bytes.shrink_to_fit();
        },
        [this, alive = alive_, up](std::exception_ptr e) {
            if (!*alive) return;
            if (e) return up->reply.fail(ErrorCode::internal, "the file could not be encrypted");
            progress(up->q.transfer_id, true, 0, up->sealed.blob.size());
            with_members(up->sealed.id, [this, up](sdk::Result<std::vector<Member>> m) {
                if (!m) return up->reply.fail(m.error());
                up->members = std::move(m).value();
                put_next(up);
            });
        });
}

// The shuffled members of the swarm that owns `id`, from the network plugin's manifest (which
// waits for the first one when a client has just started).
void Transfers::with_members(const std::array<std::uint8_t, 32>& id,
                             std::function<void(sdk::Result<std::vector<Member>>)> then) {
    sdk::network::GetManifest q;
    q.wait_ms = settings_.chunk_timeout_ms;
    bool asked = ctx_.bus().request<sdk::network::GetManifest>(
        q, 0, [alive = alive_, id, attempts = settings_.attempts, then](sdk::Result<sdk::network::ManifestReply> r) {
            if (!*alive) return;
            if (!r) return then(sdk::Error{ErrorCode::unreachable, "no network manifest: " + r.error().message});
            const auto& m = *r.value().manifest;
            std::vector<Member> out;
            for (const auto& n : m.members(m.swarm_for(id)))
                out.push_back({wire::to_hex(n.ed25519), proto::address_of(n)});
            crypto::shuffle(out);
            if (out.empty()) return then(sdk::Error{ErrorCode::unreachable, "the manifest has no swarm for this attachment"});
            // The members in turn, round after round, `attempts` tries in all: a failed onion
            // path strikes its relays, so the same member may well answer on the next round.
            std::vector<Member> tries;
            for (std::size_t i = 0; i < attempts; ++i) tries.push_back(out[i % out.size()]);
            then(std::move(tries));
        });
    if (!asked) then(sdk::Error{ErrorCode::closed, "the bus is closed"});
}

void Transfers::put_next(std::shared_ptr<Upload> up) {
    if (up->member >= up->members.size()) return up->reply.fail(up->last);
    const auto& blob = up->sealed.blob;
    as::PutRequest p;
    p.id = up->sealed.id;
    p.digest = up->sealed.digest;
    p.total_bytes = blob.size();
    p.index = up->next;
    auto start = std::uint64_t{up->next} * as::kChunkBytes;
    auto n = as::chunk_size(blob.size(), up->next);
    p.bytes.assign(blob.begin() + static_cast<std::ptrdiff_t>(start), blob.begin() + static_cast<std::ptrdiff_t>(start + n));
    const auto& to = up->members[up->member];
    tr::Request req{{to.node_key_hex, to.address}, std::string(as::kServiceName), as::encode_request(p), settings_.chunk_timeout_ms};
    // Another member starts from the first chunk (the store is idempotent; a partial upload
    // on the failed member expires there).
    auto next_member = [this, up](sdk::Error e) {
        ctx_.log().debug("upload: a swarm member failed ({}); trying the next", e.describe());
        up->last = std::move(e);
        ++up->member;
        up->next = 0;
        put_next(up);
    };
    bool asked = ctx_.bus().request<tr::Request>(
        std::move(req), 0, [this, alive = alive_, up, next_member](sdk::Result<tr::Response> r) {
            if (!*alive) return;
            if (!r) return next_member(r.error());
            if (r.value().status != tr::Status::ok)
                return next_member({ErrorCode::unreachable, "the node has no attachment store"});
            as::Response resp;
            try {
                resp = as::decode_response(as::Method::put, r.value().body);
            } catch (const wire::DecodeError& e) {
                return next_member({ErrorCode::bad_input, std::string("malformed store answer: ") + e.what()});
            }
            switch (resp.status) {
                case as::Status::ok: break;
                case as::Status::too_large: return up->reply.fail(ErrorCode::too_large, "the store refused the file: " + resp.message);
                case as::Status::bad_request:
                case as::Status::digest_mismatch: return up->reply.fail(ErrorCode::bad_input, "the store refused the file: " + resp.message);
                default: return next_member({ErrorCode::refused, std::string("store: ") + resp.message});
            }
            const auto& put = std::get<as::PutResponse>(resp.body);
            const auto total = up->sealed.blob.size();
            ++up->next;
            if (put.complete) up->next = as::chunk_count(total);  // the member already holds it all
            progress(up->q.transfer_id, true, chunk_bytes_done(total, up->next), total);
            if (up->next < as::chunk_count(total)) return put_next(up);
            if (!put.complete)  // a chunk was lost on the node (it restarted): send them all again
                return next_member({ErrorCode::refused, "the store did not complete the upload"});
            sa::AttachmentRef ref;
            ref.id = up->sealed.id;
            std::copy_n(up->sealed.key.data(), ref.key.size(), ref.key.begin());
            ref.digest = up->sealed.digest;
            ref.size_bytes = up->sealed.size_bytes;
            ref.mime_type = up->mime_type;
            ref.file_name = up->q.file_name.empty() ? neutral_file_name(up->mime_type) : safe_file_name(up->q.file_name);
            ref.notice = up->notice;
            up->reply.reply(std::move(ref));
            sodium_memzero(ref.key.data(), ref.key.size());
        });
    if (!asked) up->reply.fail(ErrorCode::closed, "the bus is closed");
}

void Transfers::download(const sa::DownloadAttachment& q, sdk::Responder<sa::DownloadedAttachment> reply) {
    auto down = std::make_shared<Download>(q, std::move(reply));
    if (as::blob_id(q.ref.digest) != q.ref.id)
        return down->reply.fail(ErrorCode::bad_input, "the attachment reference is inconsistent (id and digest differ)");
    if (q.ref.size_bytes > settings_.max_file_bytes)
        return down->reply.fail(ErrorCode::too_large, "the attachment is " + megabytes(q.ref.size_bytes) + "; the limit is " +
                                                          megabytes(settings_.max_file_bytes));
    down->total = as::sealed_bytes_of_padded(as::padded_bytes(q.ref.size_bytes));
    progress(q.transfer_id, false, 0, down->total);
    with_members(q.ref.id, [this, down](sdk::Result<std::vector<Member>> m) {
        if (!m) return down->reply.fail(m.error());
        down->members = std::move(m).value();
        down->blob.reserve(down->total);
        get_next(down);
    });
}

void Transfers::get_next(std::shared_ptr<Download> down) {
    while (down->member < down->members.size() && down->gone.count(down->members[down->member].node_key_hex)) ++down->member;
    if (down->member >= down->members.size()) {
        if (down->all_not_found) return down->reply.fail(ErrorCode::not_found, "the attachment is no longer stored (expired?)");
        return down->reply.fail(down->last);
    }
    const auto& to = down->members[down->member];
    tr::Request req{{to.node_key_hex, to.address},
                    std::string(as::kServiceName),
                    as::encode_request(as::GetRequest{down->q.ref.id, down->next}),
                    settings_.chunk_timeout_ms};
    // Chunks already fetched are kept: every member holds the same bytes, checked at the end.
    auto next_member = [this, down](sdk::Error e, bool not_found) {
        ctx_.log().debug("download: a swarm member failed ({}); trying the next", e.describe());
        down->all_not_found = down->all_not_found && not_found;
        if (not_found) down->gone.insert(down->members[down->member].node_key_hex);
        down->last = std::move(e);
        ++down->member;
        get_next(down);
    };
    bool asked = ctx_.bus().request<tr::Request>(
        std::move(req), 0, [this, alive = alive_, down, next_member](sdk::Result<tr::Response> r) {
            if (!*alive) return;
            if (!r) return next_member(r.error(), false);
            if (r.value().status != tr::Status::ok) return next_member({ErrorCode::unreachable, "the node has no attachment store"}, false);
            as::Response resp;
            try {
                resp = as::decode_response(as::Method::get, r.value().body);
            } catch (const wire::DecodeError& e) {
                return next_member({ErrorCode::bad_input, std::string("malformed store answer: ") + e.what()}, false);
            }
            if (resp.status == as::Status::not_found) return next_member({ErrorCode::not_found, resp.message}, true);
            if (resp.status != as::Status::ok) return next_member({ErrorCode::refused, std::string("store: ") + resp.message}, false);
            auto& g = std::get<as::GetResponse>(resp.body);
            // One bad member does not fail the download: the others hold the same bytes.
            if (g.total_bytes != down->total || g.index != down->next)
                return next_member({ErrorCode::bad_input, "the stored attachment has the wrong size: refused"}, false);
            down->blob.insert(down->blob.end(), g.bytes.begin(), g.bytes.end());
            ++down->next;
            progress(down->q.transfer_id, false, down->blob.size(), down->total);
            if (down->next < as::chunk_count(down->total)) return get_next(down);
            // Verify (digest, every chunk, final tag, padding) and write, on the worker pool.
            auto path = std::make_shared<std::string>();
            auto err = std::make_shared<std::optional<sdk::Error>>();
            ctx_.run_blocking(
                [down, path, err] {
                    try {
                        auto plain = open(down->blob, down->q.ref);
                        if (down->q.keep_sealed) {
                            // Verified: what is kept is the blob itself, under its key in the ref.
                            sodium_memzero(plain.data(), plain.size());
                            *path = write_new_file(down->q.directory, wire::to_hex(down->q.ref.id) + ".sealed",
                                                   down->blob.data(), down->blob.size());
                            return;
                        }
                        try {
                            *path = write_new_file(down->q.directory, safe_file_name(down->q.ref.file_name), plain.data(),
                                                   plain.size());
                        } catch (...) {
                            sodium_memzero(plain.data(), plain.size());
                            throw;
                        }
                        sodium_memzero(plain.data(), plain.size());  // the file on disk is the copy kept
                    } catch (const SealError& e) {
                        *err = sdk::Error{ErrorCode::bad_input, std::string(e.what()) + "; nothing was written"};
                    } catch (const std::exception& e) {
                        *err = sdk::Error{ErrorCode::io, e.what()};
                    }
                },
                [this, alive, down, path, err](std::exception_ptr e) {
                    if (!*alive) return;
                    if (e) return down->reply.fail(ErrorCode::internal, "the download could not be finished");
                    if (*err && (*err)->code == ErrorCode::bad_input && down->member + 1 < down->members.size()) {
                        // This member's copy is bad (a faulty or lying node): start over from another.
                        ctx_.log().warn("a stored attachment did not verify; trying another member of its swarm");
                        down->blob.clear();
                        down->next = 0;
                        down->all_not_found = false;
                        down->last = **err;
                        down->gone.insert(down->members[down->member].node_key_hex);
                        ++down->member;
                        return get_next(down);
                    }
                    if (*err) return down->reply.fail(**err);
                    down->reply.reply(sa::DownloadedAttachment{*path});
                });
        });
    if (!asked) down->reply.fail(ErrorCode::closed, "the bus is closed");
}

void Transfers::open_kept(const sa::OpenAttachment& q, sdk::Responder<sa::OpenedAttachment> reply) {
    auto out = std::make_shared<sa::OpenedAttachment>();
    auto err = std::make_shared<std::optional<sdk::Error>>();
    ctx_.run_blocking(
        [q, out, err] {
            try {
                auto plain = open(read_blob(q.sealed_path), q.ref);
                try {
                    if (!q.path.empty()) {
                        if (!write_exclusive(q.path, plain.data(), plain.size()))
                            throw std::runtime_error(q.path + " exists: it was not overwritten");
                        out->path = q.path;
                    } else if (!q.directory.empty()) {
                        out->path = write_new_file(q.directory, safe_file_name(q.ref.file_name), plain.data(), plain.size());
                    } else {
                        out->bytes = std::move(plain);
                        return;
                    }
                } catch (...) {
                    sodium_memzero(plain.data(), plain.size());
                    throw;
                }
                sodium_memzero(plain.data(), plain.size());
            } catch (const SealError& e) {
                *err = sdk::Error{ErrorCode::bad_input, std::string("the kept copy does not verify: ") + e.what()};
            } catch (const std::exception& e) {
                *err = sdk::Error{ErrorCode::io, e.what()};
            }
        },
        [alive = alive_, out, err, reply](std::exception_ptr e) {
            if (!*alive) return;
            if (e) return reply.fail(ErrorCode::internal, "the attachment could not be opened");
            if (*err) return reply.fail(**err);
            reply.reply(std::move(*out));
        });
}

}  // namespace veil::attachments
