// Fuzzes what a peer's device can hand GroupBook (docs/groups.md): the group control decoder
// and the invitation body decoder (each re-encodes to the same bytes) and receive_control / open on a device that holds one group.
// Whatever arrives, only crypto::Error comes out, and the group keeps its admin-signed state.
// Also the stored group record and device lists (GroupBook::load): malformed, or they store back
// the same bytes (a v3 record: as v4, which then stores back as itself), and the declined
// invitations (GroupBook::decline) and the held leave notices (GroupBook::hold_leave).
#include <cstdlib>

#include "group_book.hpp"

namespace {
const veil::crypto::Identity& me() {
    static const auto id = veil::crypto::Identity::from_seed(veil::crypto::SecretBytes(32));
    return id;
}
}  // namespace

// The records a save writes (an erase of the leave notices' record goes with every save that
// holds none).
// The group record version group_book.cpp writes (kRecordVersion there).
constexpr std::uint8_t kGroupRecordVersionForFuzz = 5;

static std::vector<veil::sdk::storage::BatchOp> puts_of(std::vector<veil::sdk::storage::BatchOp> ops) {
    std::erase_if(ops, [](const auto& o) { return o.kind != veil::sdk::storage::BatchOp::Kind::put; });
    return ops;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace veil;
    using namespace veil::messenger;
    wire::ByteView in(data, size);
    try {
        auto c = decode_group_control(in);
        if (!encode_group_control(c.kind, c.body.view()).equals(in)) std::abort();
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::malformed) std::abort();
    }
    try {
        // An invitation's body: whatever decodes encodes back to the same bytes.
        auto history = decode_group_invitation(in);
        std::vector<const crypto::GroupState*> states;
        for (const auto& st : history) states.push_back(&st);
        if (!encode_group_invitation(states).equals(in)) std::abort();
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::malformed) std::abort();
    }
    GroupBook book(me().veil_id());
    crypto::GroupId g{};
    (void)book.create(me(), "fuzz", {}, 1, g);
    const auto version = book.state(g)->version();
    try {
        (void)book.receive_control(me().veil_id(), crypto::PublicKey{}, in, false);
    } catch (const crypto::Error&) {
    }
    // Only this identity is admin, and nothing it did not sign can replace its state.
    if (book.state(g)->version() != version) std::abort();
    try {
        GroupMessage m;
        (void)book.open(g, in, m);
    } catch (const crypto::Error&) {
    }
    try {
        const std::vector<sdk::storage::Entry> entries{{"group/x", wire::Bytes(in.begin(), in.end())}};
        auto loaded = GroupBook::load(me().veil_id(), entries);
        auto ops = puts_of(loaded.save_ops("messenger"));
        if (ops.size() != 2) std::abort();
        // A current record stores back as the same bytes; an older one (v3, v4) as the current
        // version, which then stores back as itself.
        if (ops.front().value != entries.front().value) {
            if (in.empty() || in[0] < 3 || in[0] >= kGroupRecordVersionForFuzz) std::abort();
            const std::vector<sdk::storage::Entry> again{{"group/x", ops.front().value}};
            if (GroupBook::load(me().veil_id(), again).save_ops("messenger").front().value != ops.front().value) std::abort();
        }
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::malformed) std::abort();
    }
    try {
        // The stored device lists: malformed, or stored back as the same bytes.
        const std::vector<sdk::storage::Entry> entries{{std::string(kGroupDevicesKey), wire::Bytes(in.begin(), in.end())}};
        auto loaded = GroupBook::load(me().veil_id(), entries);
        auto ops = puts_of(loaded.save_ops("messenger"));
        if (!loaded.groups().empty() || ops.size() != 1 || ops.front().value != entries.front().value) std::abort();
    } catch (const crypto::Error& e) {
        if (e.kind() != crypto::ErrorKind::malformed) std::abort();
    }
    for (auto key : {kGroupDeclinedKey, kGroupLeavesKey}) {
        try {
            // The declined invitations and the held leave notices: malformed, or stored back as the same bytes.
            const std::vector<sdk::storage::Entry> entries{{std::string(key), wire::Bytes(in.begin(), in.end())}};
            auto ops = puts_of(GroupBook::load(me().veil_id(), entries).save_ops("messenger"));
            if (ops.size() != 2 || ops.back().key != key || ops.back().value != entries.front().value) std::abort();
        } catch (const crypto::Error& e) {
            if (e.kind() != crypto::ErrorKind::malformed) std::abort();
        }
    }
    return 0;
}
