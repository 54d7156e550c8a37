#include "published.hpp"

#include <algorithm>

#include "veil/crypto/error.hpp"

namespace veil::messenger {
namespace {

std::uint32_t max_one_time_id(const crypto::PreKeyBundle& b) {
    std::uint32_t m = 0;
    for (const auto& k : b.one_time_prekeys) m = std::max(m, k.id);
    return m;
}

// Later signed pre-key, then later top-up, then fewer keys left (a republish after consumption).
bool newer(const crypto::PreKeyBundle& a, const crypto::PreKeyBundle& b) {
    if (a.signed_prekey.id != b.signed_prekey.id) return a.signed_prekey.id > b.signed_prekey.id;
    if (max_one_time_id(a) != max_one_time_id(b)) return max_one_time_id(a) > max_one_time_id(b);
    return a.one_time_prekeys.size() < b.one_time_prekeys.size();
}

}  // namespace

std::vector<crypto::DeviceList> valid_device_lists(const crypto::VeilId& id, const std::vector<wire::Bytes>& blobs,
                                                   std::uint64_t now_ms) {
    std::vector<crypto::DeviceList> out;
    for (const auto& b : blobs) {
        try {
            auto list = crypto::DeviceList::decode(b);
            list.verify(id);
            if (list.from_future(now_ms)) continue;  // signed far ahead: it would outrank every honest list
            out.push_back(std::move(list));
        } catch (const crypto::Error&) {
            // Forged, corrupt or foreign: ignored.
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version() < b.version(); });
    return out;
}

std::optional<crypto::DeviceList> newest_device_list(const crypto::VeilId& id,
                                                     const std::vector<wire::Bytes>& blobs, std::uint64_t now_ms) {
    auto lists = valid_device_lists(id, blobs, now_ms);
    if (lists.empty()) return std::nullopt;
    return newest_of(std::move(lists));
}

crypto::DeviceList newest_of(std::vector<crypto::DeviceList> lists) {
    auto first = std::find_if(lists.begin(), lists.end(), [&](const auto& l) { return l.version() == lists.back().version(); });
    return std::move(*first);
}

std::optional<std::string> device_list_clock_error(const crypto::VeilId& id, const std::vector<wire::Bytes>& blobs,
                                                   std::uint64_t now_ms) {
    constexpr std::uint64_t kHourMs = 3600ULL * 1000;
    std::uint64_t ahead = 0;
    for (const auto& b : blobs) {
        try {
            auto list = crypto::DeviceList::decode(b);
            list.verify(id);
            if (!list.from_future(now_ms)) return std::nullopt;  // a usable list: no clock problem
            ahead = std::max(ahead, list.version() - now_ms);
        } catch (const crypto::Error&) {
        }
    }
    if (ahead == 0) return std::nullopt;
    return "a device list is signed " + std::to_string((ahead + kHourMs - 1) / kHourMs) +
           " h ahead of this clock; check the clock";
}

std::map<crypto::PublicKey, crypto::PreKeyBundle> newest_bundles(const crypto::VeilId& id,
                                                                 const crypto::DeviceList& list,
                                                                 const std::vector<wire::Bytes>& blobs,
                                                                 std::uint64_t now_ms) {
    std::map<crypto::PublicKey, crypto::PreKeyBundle> out;
    for (const auto& b : blobs) {
        try {
            auto bundle = crypto::PreKeyBundle::decode(b);
            bundle.verify(id, list, now_ms);
            const auto& key = bundle.certificate.device_signing_key;
            auto it = out.find(key);
            if (it == out.end()) {
                out.emplace(key, std::move(bundle));
            } else if (newer(bundle, it->second)) {
                it->second = std::move(bundle);
            }
        } catch (const crypto::Error&) {
        }
    }
    return out;
}

std::vector<proto::node::Hash> superseded_lists(const crypto::VeilId& id, const crypto::DeviceList& current,
                                         const std::vector<proto::node::MessageItem>& items) {
    std::vector<proto::node::Hash> out;
    // A lower version alone is no proof: a fork signed elsewhere may revoke a device the
    // current list does not (issue 14). Deleted only once current carries each of its marks.
    auto keeps_marks = [&current](const crypto::DeviceList& old) {
        return std::all_of(old.entries().begin(), old.entries().end(), [&current](const auto& e) {
            const auto* now = current.find(e.signing_key);
            return !e.revoked() || (now && now->revoked());
        });
    };
    for (const auto& item : items) {
        try {
            auto list = crypto::DeviceList::decode(item.data);
            list.verify(id);
            if (list.version() < current.version() && keeps_marks(list)) out.push_back(item.hash);
        } catch (const crypto::Error&) {
            out.push_back(item.hash);
        }
    }
    return out;
}

std::vector<proto::node::Hash> superseded_bundles(const crypto::VeilId& id, const crypto::PublicKey& device,
                                           const wire::Bytes& current, const std::vector<proto::node::MessageItem>& items,
                                           std::uint64_t now_ms) {
    std::vector<proto::node::Hash> out;
    for (const auto& item : items) {
        if (item.data == current) continue;
        try {
            auto b = crypto::PreKeyBundle::decode(item.data);
            b.verify(id, now_ms);
            if (b.certificate.device_signing_key == device) out.push_back(item.hash);
        } catch (const crypto::Error&) {
            out.push_back(item.hash);
        }
    }
    return out;
}

}  // namespace veil::messenger
