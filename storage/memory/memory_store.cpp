#include "memory_store.hpp"

namespace veil::memory {

using namespace sdk::storage;
using sdk::Error;
using sdk::ErrorCode;

namespace {
constexpr std::size_t kErase = static_cast<std::size_t>(-1);
}

std::ptrdiff_t MemoryStore::delta(const std::string& ns, const std::string& key, std::size_t value_size) const {
    std::ptrdiff_t d = 0;
    if (auto t = data_.find(ns); t != data_.end()) {
        if (auto it = t->second.find(key); it != t->second.end()) {
            d -= static_cast<std::ptrdiff_t>(key.size() + it->second.size());
        }
    }
    if (value_size != kErase) d += static_cast<std::ptrdiff_t>(key.size() + value_size);
    return d;
}

void MemoryStore::apply(const BatchOp& op) {
    auto d = delta(op.ns, op.key, op.kind == BatchOp::Kind::put ? op.value.size() : kErase);
    if (op.kind == BatchOp::Kind::put) {
        data_[op.ns][op.key] = op.value;
    } else if (auto t = data_.find(op.ns); t != data_.end()) {
        t->second.erase(op.key);
        if (t->second.empty()) data_.erase(t);
    }
    used_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(used_) + d);
}

void MemoryStore::put(const Put& op, std::function<void(sdk::Result<Done>)> done) {
    auto d = delta(op.ns, op.key, op.value.size());
    if (d > 0 && used_ + static_cast<std::size_t>(d) > max_bytes_) {
        done(Error{ErrorCode::refused, "memory storage full (" + std::to_string(max_bytes_) + " bytes)"});
        return;
    }
    apply(BatchOp{BatchOp::Kind::put, op.ns, op.key, op.value});
    done(Done{});
}

void MemoryStore::get(const Get& op, std::function<void(sdk::Result<GetReply>)> done) {
    GetReply r;
    if (auto t = data_.find(op.ns); t != data_.end()) {
        if (auto it = t->second.find(op.key); it != t->second.end()) r.value = it->second;
    }
    done(std::move(r));
}

void MemoryStore::erase(const Erase& op, std::function<void(sdk::Result<Done>)> done) {
    apply(BatchOp{BatchOp::Kind::erase, op.ns, op.key, {}});
    done(Done{});
}

void MemoryStore::scan(const Scan& op, std::function<void(sdk::Result<ScanReply>)> done) {
    ScanReply r;
    if (auto t = data_.find(op.ns); t != data_.end()) {
        for (auto it = t->second.lower_bound(op.prefix); it != t->second.end() && it->first.starts_with(op.prefix); ++it) {
            if (r.entries.size() == op.limit) {
                r.truncated = true;
                break;
            }
            r.entries.push_back({it->first, it->second});
        }
    }
    done(std::move(r));
}

void MemoryStore::batch(const Batch& op, std::function<void(sdk::Result<Done>)> done) {
    // Check the whole batch against the budget first: all or nothing. Simulate sizes on a
    // copy of the touched keys so repeated keys in one batch count once.
    std::map<std::pair<std::string, std::string>, std::ptrdiff_t> sizes;  // -1 = absent
    std::ptrdiff_t total = static_cast<std::ptrdiff_t>(used_);
    for (const auto& o : op.ops) {
        if (o.kind != BatchOp::Kind::put && o.kind != BatchOp::Kind::erase) {
            done(Error{ErrorCode::bad_input, "batch: invalid operation kind"});
            return;
        }
        auto k = std::make_pair(o.ns, o.key);
        auto it = sizes.find(k);
        if (it == sizes.end()) {
            std::ptrdiff_t cur = -1;
            if (auto t = data_.find(o.ns); t != data_.end()) {
                if (auto v = t->second.find(o.key); v != t->second.end()) cur = static_cast<std::ptrdiff_t>(v->second.size());
            }
            it = sizes.emplace(k, cur).first;
        }
        auto key_size = static_cast<std::ptrdiff_t>(o.key.size());
        if (it->second >= 0) total -= key_size + it->second;
        it->second = o.kind == BatchOp::Kind::put ? static_cast<std::ptrdiff_t>(o.value.size()) : -1;
        if (it->second >= 0) total += key_size + it->second;
    }
    if (total > static_cast<std::ptrdiff_t>(max_bytes_)) {
        done(Error{ErrorCode::refused, "memory storage full (" + std::to_string(max_bytes_) + " bytes)"});
        return;
    }
    for (const auto& o : op.ops) apply(o);
    done(Done{});
}

}  // namespace veil::memory
