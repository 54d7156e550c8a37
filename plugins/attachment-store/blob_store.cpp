#include "blob_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace veil::attachment_store {

namespace fs = std::filesystem;

namespace {

// Owns a file descriptor.
class Fd final {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_;
};

bool write_at(int fd, const std::uint8_t* p, std::size_t n, std::uint64_t off) {
    while (n > 0) {
        auto w = ::pwrite(fd, p, n, static_cast<off_t>(off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
        off += static_cast<std::uint64_t>(w);
    }
    return true;
}

bool read_at(int fd, std::uint8_t* p, std::size_t n, std::uint64_t off) {
    while (n > 0) {
        auto r = ::pread(fd, p, n, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
        off += static_cast<std::uint64_t>(r);
    }
    return true;
}

void make_private_dir(const fs::path& p) {
    fs::create_directories(p);
    fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace);
}

}  // namespace

BlobStore::BlobStore(fs::path dir, StoreLimits limits) : dir_(std::move(dir)), limits_(limits) {
    make_private_dir(dir_ / "blobs");
    make_private_dir(dir_ / "parts");
    for (const auto& e : fs::directory_iterator(dir_ / "parts")) fs::remove(e.path());
    for (const auto& e : fs::directory_iterator(dir_ / "blobs")) {
        // <64 hex id>-<expiry_ms>-<64 hex digest>; anything else is not ours to keep.
        auto name = e.path().filename().string();
        auto last = name.rfind('-');
        try {
            if (name.size() < 131 || name[64] != '-' || last != name.size() - 65) throw wire::DecodeError("name");
            auto raw_id = wire::from_hex(name.substr(0, 64));
            auto raw_digest = wire::from_hex(name.substr(last + 1));
            BlobId id{};
            Blob b;
            std::copy(raw_id.begin(), raw_id.end(), id.begin());
            std::copy(raw_digest.begin(), raw_digest.end(), b.digest.begin());
            if (blob_id(b.digest) != id) throw wire::DecodeError("digest");
            b.total_bytes = static_cast<std::uint64_t>(fs::file_size(e.path()));
            b.expiry_ms = std::stoull(name.substr(65, last - 65));
            blobs_[id] = b;
        } catch (const std::exception&) {
            fs::remove(e.path());
        }
    }
}

fs::path BlobStore::blob_path(const BlobId& id, const Blob& b) const {
    return dir_ / "blobs" / (wire::to_hex(id) + "-" + std::to_string(b.expiry_ms) + "-" + wire::to_hex(b.digest));
}

fs::path BlobStore::part_path(const BlobId& id) const { return dir_ / "parts" / wire::to_hex(id); }

std::uint64_t BlobStore::used_bytes() const {
    std::uint64_t n = 0;
    for (const auto& [id, b] : blobs_) n += b.total_bytes;
    for (const auto& [id, p] : pending_) n += p.total_bytes;
    return n;
}

void BlobStore::drop_pending(const BlobId& id) {
    std::error_code ec;
    fs::remove(part_path(id), ec);
    pending_.erase(id);
}

PutOutcome BlobStore::put(const PutRequest& q, std::uint64_t now_ms, const std::string& source) {
    std::lock_guard lock(mutex_);
    PutOutcome out;
    const auto total_chunks = chunk_count(q.total_bytes);
    if (auto b = blobs_.find(q.id); b != blobs_.end() && b->second.expiry_ms > now_ms) {
        out.response.body = PutResponse{true, total_chunks, total_chunks};  // already held: idempotent
        out.expiry_ms = b->second.expiry_ms;
        return out;
    }
    if (blob_id(q.digest) != q.id) {
        out.response = error(Status::bad_request, "the id does not belong to the digest");
        return out;
    }
    if (q.total_bytes > limits_.max_blob_bytes) {
        out.response = error(Status::too_large, "the blob is " + std::to_string(q.total_bytes) + " bytes; this store keeps at most " +
                                                    std::to_string(limits_.max_blob_bytes));
        return out;
    }
    auto it = pending_.find(q.id);
    if (it == pending_.end()) {
        if (pending_.size() >= limits_.max_pending) {
            out.response = error(Status::not_ready, "too many uploads in progress");
            return out;
        }
        // One source cannot hold every slot (and stall everyone else's uploads), whatever number
        // of connections it opens.
        auto mine = std::count_if(pending_.begin(), pending_.end(), [&](const auto& e) { return e.second.source == source; });
        if (static_cast<std::size_t>(mine) >= limits_.max_pending_per_source) {
            out.response = error(Status::not_ready, "this source has too many uploads in progress");
            return out;
        }
        if (used_bytes() + q.total_bytes > limits_.max_total_bytes) {
            out.response = error(Status::not_ready, "the store is full");
            return out;
        }
        Pending p;
        p.digest = q.digest;
        p.total_bytes = q.total_bytes;
        p.have.assign(total_chunks, false);
        p.source = source;
        it = pending_.emplace(q.id, std::move(p)).first;
    } else if (it->second.total_bytes != q.total_bytes) {
        out.response = error(Status::bad_request, "the chunk declares another blob size than the upload in progress");
        return out;
    }
    auto& p = it->second;
    p.touched_ms = now_ms;
    // A replica keeps its origin's expiry (never longer than ours would be).
    std::uint64_t ours = now_ms + limits_.expiry_ms;
    p.expiry_ms = q.replica && q.expiry_ms > now_ms ? std::min(q.expiry_ms, ours) : ours;
    if (!p.have[q.index]) {
        Fd fd(::open(part_path(q.id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (!fd || !write_at(fd.get(), q.bytes.data(), q.bytes.size(), std::uint64_t{q.index} * kChunkBytes)) {
            out.response = error(Status::internal, "cannot write the chunk");
            return out;
        }
        p.have[q.index] = true;
        ++p.have_count;
    }
    if (p.have_count < total_chunks) {
        out.response.body = PutResponse{false, p.have_count, total_chunks};
        return out;
    }
    out.expiry_ms = p.expiry_ms;
    out.response = finish(q.id, p, now_ms, out.completed_now);
    return out;
}

// Every chunk is in: hash the file, and publish it only if it matches the digest.
Response BlobStore::finish(const BlobId& id, Pending& p, std::uint64_t /*now_ms*/, bool& completed) {
    const auto path = part_path(id);
    const auto total_chunks = chunk_count(p.total_bytes);
    {
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        crypto_generichash_state st;
        crypto_generichash_init(&st, nullptr, 0, 32);
        Bytes buf(kChunkBytes);
        bool ok = static_cast<bool>(fd);
        for (std::uint32_t i = 0; ok && i < total_chunks; ++i) {
            auto n = chunk_size(p.total_bytes, i);
            ok = read_at(fd.get(), buf.data(), n, std::uint64_t{i} * kChunkBytes);
            if (ok) crypto_generichash_update(&st, buf.data(), n);
        }
        Digest d{};
        crypto_generichash_final(&st, d.data(), d.size());
        if (!ok) {
            drop_pending(id);
            return error(Status::internal, "cannot read the uploaded blob");
        }
        if (sodium_memcmp(d.data(), p.digest.data(), d.size()) != 0) {
            drop_pending(id);
            return error(Status::digest_mismatch, "the uploaded blob does not match its digest; it was discarded");
        }
        ::fsync(fd.get());
    }
    std::error_code ec;
    Blob blob{p.total_bytes, p.expiry_ms, p.digest};
    if (auto old = blobs_.find(id); old != blobs_.end()) fs::remove(blob_path(id, old->second), ec);  // expired copy
    fs::rename(path, blob_path(id, blob), ec);
    if (ec) {
        drop_pending(id);
        return error(Status::internal, "cannot keep the blob");
    }
    blobs_[id] = blob;
    pending_.erase(id);
    completed = true;
    Response r;
    r.body = PutResponse{true, total_chunks, total_chunks};
    return r;
}

Response BlobStore::get(const GetRequest& q, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = blobs_.find(q.id);
    if (it == blobs_.end() || it->second.expiry_ms <= now_ms) return error(Status::not_found, "no such attachment (never stored, or expired)");
    const auto& b = it->second;
    if (q.index >= chunk_count(b.total_bytes)) return error(Status::bad_request, "no such chunk");
    GetResponse g;
    g.total_bytes = b.total_bytes;
    g.expiry_ms = b.expiry_ms;
    g.index = q.index;
    g.bytes.resize(chunk_size(b.total_bytes, q.index));
    Fd fd(::open(blob_path(q.id, b).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || !read_at(fd.get(), g.bytes.data(), g.bytes.size(), std::uint64_t{q.index} * kChunkBytes))
        return error(Status::internal, "cannot read the blob");
    Response r;
    r.body = std::move(g);
    return r;
}

std::size_t BlobStore::sweep(std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (auto it = blobs_.begin(); it != blobs_.end();) {
        if (it->second.expiry_ms > now_ms) {
            ++it;
            continue;
        }
        std::error_code ec;
        fs::remove(blob_path(it->first, it->second), ec);
        it = blobs_.erase(it);
        ++n;
    }
    std::vector<BlobId> idle;
    for (const auto& [id, p] : pending_)
        if (p.touched_ms + limits_.pending_idle_ms <= now_ms) idle.push_back(id);
    for (const auto& id : idle) drop_pending(id);
    return n + idle.size();
}

bool BlobStore::has(const BlobId& id, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = blobs_.find(id);
    return it != blobs_.end() && it->second.expiry_ms > now_ms;
}

ListResponse BlobStore::list(const std::optional<BlobId>& after, std::uint32_t max_count, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    ListResponse out;
    auto it = after ? blobs_.upper_bound(*after) : blobs_.begin();
    for (; it != blobs_.end(); ++it) {
        if (it->second.expiry_ms <= now_ms) continue;
        if (out.blobs.size() == max_count) {
            out.more = true;
            break;
        }
        out.blobs.push_back(BlobEntry{it->first, it->second.digest, it->second.total_bytes, it->second.expiry_ms});
    }
    return out;
}

std::vector<BlobEntry> BlobStore::missing(const std::vector<BlobEntry>& entries, std::uint64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::vector<BlobEntry> out;
    for (const auto& e : entries) {
        if (e.expiry_ms <= now_ms) continue;
        auto it = blobs_.find(e.id);
        if (it == blobs_.end() || it->second.expiry_ms <= now_ms) out.push_back(e);
    }
    return out;
}

std::size_t BlobStore::count() {
    std::lock_guard lock(mutex_);
    return blobs_.size();
}

}  // namespace veil::attachment_store
