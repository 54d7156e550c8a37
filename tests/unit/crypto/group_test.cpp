// Closed groups (docs/groups.md): the signed group state as every member checks it, with hostile
// admins-to-be forging states byte by byte from the documented format, and sender-key chains
// (order, gaps, replays, forgeries, removal).
#include <catch2/catch.hpp>

#include <sodium.h>

#include <algorithm>

#include "group_forge.hpp"
#include "test_util.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/group.hpp"
#include "veil/crypto/hkdf.hpp"

using namespace veil::crypto;
using namespace veil::crypto::test;

namespace {

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind{};
}

std::vector<VeilId> ids(std::initializer_list<const Identity*> people) {
    std::vector<VeilId> out;
    for (const auto* p : people) out.push_back(p->veil_id());
    return out;
}

std::string text_of(const Bytes& b) { return {b.begin(), b.end()}; }

Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("group - a new group names its creator as admin, verifies and round-trips", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto g = GroupState::create(alice, "family", ids({&bob, &carol}), 1000);
    CHECK(g.version() == 1);
    CHECK(g.epoch() == 1);
    CHECK(g.name() == "family");
    CHECK(g.members().size() == 3);
    CHECK(g.is_admin(alice.veil_id()));
    CHECK(g.is_member(bob.veil_id()));
    CHECK_FALSE(g.is_admin(bob.veil_id()));
    CHECK(g.signer() == alice.veil_id());
    CHECK_NOTHROW(g.verify_self());

    auto back = GroupState::decode(g.encode().view());
    CHECK(back.group_id() == g.group_id());
    CHECK(back.members() == g.members());
    CHECK(back.mailbox_keys().pub == g.mailbox_keys().pub);
    CHECK(back.encode().equals(g.encode().view()));
    CHECK_NOTHROW(back.verify_self());

    // Two groups of the same creator and name are two groups.
    auto other = GroupState::create(alice, "family", {}, 1000);
    CHECK(other.group_id() != g.group_id());
    CHECK(other.mailbox_keys().pub != g.mailbox_keys().pub);

    CHECK(parse_group_id(group_id_str(g.group_id())) == g.group_id());
    CHECK(group_id_str(g.group_id()).size() == group_id_chars);
    CHECK(kind_of([&] { parse_group_id(alice.veil_id().str()); }) == ErrorKind::invalid_id);
    CHECK(kind_of([&] { parse_group_id("03"); }) == ErrorKind::invalid_id);
    auto bad_hex = group_id_str(g.group_id());
    bad_hex[10] = 'x';
    CHECK(kind_of([&] { parse_group_id(bad_hex); }) == ErrorKind::invalid_id);

    // Tampered bytes do not verify; truncated or padded bytes do not decode.
    auto bytes = g.encode();
    Bytes tampered(bytes.view().begin(), bytes.view().end());
    tampered[1 + 32 + 32 + 16 + 32 + 8 + 8 + 4] ^= 1;  // first byte of the name
    CHECK(kind_of([&] { GroupState::decode(tampered).verify_self(); }) == ErrorKind::bad_signature);
    Bytes cut(bytes.view().begin(), bytes.view().end() - 1);
    CHECK(kind_of([&] { GroupState::decode(cut); }) == ErrorKind::malformed);
    Bytes longer(bytes.view().begin(), bytes.view().end());
    longer.push_back(0);
    CHECK(kind_of([&] { GroupState::decode(longer); }) == ErrorKind::malformed);
}

TEST_CASE("group - an admin's changes are accepted by every member, in order", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto dave = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);
    // Bob holds what Alice sent him.
    auto bobs = GroupState::decode(v1.encode().view());

    auto v2 = v1.with_added(alice, ids({&dave}), 2000);
    CHECK(v2.version() == 2);
    CHECK(v2.epoch() == 2);  // adding moves the mailbox: Dave reads nothing sent before
    CHECK(v2.mailbox_keys().pub != v1.mailbox_keys().pub);
    bobs = GroupState::accept_update(bobs, GroupState::decode(v2.encode().view()));
    CHECK(bobs.is_member(dave.veil_id()));

    auto v3 = v2.with_removed(alice, ids({&carol}), 3000);
    CHECK(v3.epoch() == 3);
    CHECK(v3.mailbox_keys().pub != v2.mailbox_keys().pub);  // a removal moves the mailbox
    bobs = GroupState::accept_update(bobs, GroupState::decode(v3.encode().view()));
    CHECK_FALSE(bobs.is_member(carol.veil_id()));

    auto v4 = v3.with_role(alice, bob.veil_id(), GroupRole::admin, 4000);
    bobs = GroupState::accept_update(bobs, GroupState::decode(v4.encode().view()));
    CHECK(bobs.is_admin(bob.veil_id()));
    // Bob, now an admin, can change the group, and Alice accepts it.
    auto v5 = bobs.with_removed(bob, ids({&dave}), 5000);
    auto alices = GroupState::accept_update(v4, GroupState::decode(v5.encode().view()));
    CHECK(alices.signer() == bob.veil_id());
    CHECK(alices.members().size() == 2);

    // An offline member at v2 takes v3, then v4; v4 alone waits for v3.
    auto late = GroupState::decode(v2.encode().view());
    CHECK(kind_of([&] { GroupState::accept_update(late, v4.clone()); }) == ErrorKind::too_many_skipped);
    late = GroupState::accept_update(late, v3.clone());
    CHECK_NOTHROW(GroupState::accept_update(late, v4.clone()));

    // Replays and foreign states are refused.
    CHECK(kind_of([&] { GroupState::accept_update(v4, v3.clone()); }) == ErrorKind::stale_version);
    CHECK(kind_of([&] { GroupState::accept_update(v4, v4.clone()); }) == ErrorKind::stale_version);
    auto elsewhere = GroupState::create(alice, "other", ids({&bob}), 1000).with_added(alice, ids({&carol}), 9000);
    CHECK(kind_of([&] { GroupState::accept_update(v1, std::move(elsewhere)); }) == ErrorKind::untrusted_key);
}

TEST_CASE("group - a non-admin's add, remove or self-promotion is refused by every member", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto mallory = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);

    // Bob's own client will not sign a change.
    CHECK(kind_of([&] { (void)v1.with_added(bob, ids({&mallory}), 2000); }) == ErrorKind::untrusted_key);
    CHECK(kind_of([&] { (void)v1.with_removed(bob, ids({&carol}), 2000); }) == ErrorKind::untrusted_key);

    // A hostile Bob signs the bytes himself.
    auto add = draft_of(v1);
    add.version = 2;
    add.epoch = 2;
    add.seed[0] ^= 1;
    add.members.emplace_back(mallory.veil_id(), 1);
    CHECK(kind_of([&] { forge(add, bob).verify_self(); }) == ErrorKind::untrusted_key);
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(add, bob)); }) == ErrorKind::untrusted_key);

    auto remove = draft_of(v1);
    remove.version = 2;
    remove.epoch = 2;
    remove.seed[0] ^= 1;
    drop(remove, carol.veil_id());
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(remove, bob)); }) == ErrorKind::untrusted_key);

    // Bob makes himself admin in the state he signs: it verifies on its own, but he was not an
    // admin of the state it replaces.
    auto promote = draft_of(v1);
    promote.version = 2;
    set_role(promote, bob.veil_id(), 2);
    drop(promote, carol.veil_id());
    promote.epoch = 2;
    promote.seed[0] ^= 1;
    CHECK_NOTHROW(forge(promote, bob).verify_self());
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(promote, bob)); }) == ErrorKind::untrusted_key);

    // A stranger cannot either.
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(add, mallory)); }) == ErrorKind::untrusted_key);

    // The same draft signed by Alice is fine: the refusals were about who signed.
    CHECK_NOTHROW(GroupState::accept_update(v1, forge(add, alice)));
}

TEST_CASE("group - a removal that keeps the epoch or the mailbox is refused", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);

    auto same_both = draft_of(v1);
    same_both.version = 2;
    drop(same_both, carol.veil_id());
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(same_both, alice)); }) == ErrorKind::invalid_argument);

    auto same_seed = same_both;
    same_seed.epoch = 2;
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(same_seed, alice)); }) == ErrorKind::invalid_argument);

    auto same_epoch = same_both;
    same_epoch.seed[0] ^= 1;
    CHECK(kind_of([&] { GroupState::accept_update(v1, forge(same_epoch, alice)); }) == ErrorKind::invalid_argument);

    auto rotated = same_epoch;
    rotated.epoch = 2;
    CHECK_NOTHROW(GroupState::accept_update(v1, forge(rotated, alice)));
}

TEST_CASE("group - a genesis cannot be forged for someone else's group", "[crypto][group]") {
    auto alice = Identity::generate();
    auto mallory = Identity::generate();
    auto bob = Identity::generate();
    auto g = GroupState::create(alice, "team", ids({&bob}), 1000);

    // Mallory claims Alice's group ID with herself as creator: the ID is not hers.
    auto claim = draft_of(g);
    claim.previous = {};  // a genesis follows nothing
    claim.creator = mallory.signing_key();
    claim.members.emplace_back(mallory.veil_id(), 2);
    CHECK(kind_of([&] { forge(claim, mallory).verify_self(); }) == ErrorKind::untrusted_key);

    // Keeping Alice as the creator, she signs a version 1 herself: only the creator signs it.
    auto keep = draft_of(g);
    keep.previous = {};  // a genesis follows nothing
    keep.members.emplace_back(mallory.veil_id(), 2);
    CHECK(kind_of([&] { forge(keep, mallory).verify_self(); }) == ErrorKind::untrusted_key);

    // No admin, a member twice, an unknown role, too many members: refused.
    auto no_admin = draft_of(g);
    no_admin.previous = {};  // a genesis follows nothing
    set_role(no_admin, alice.veil_id(), 1);
    CHECK(kind_of([&] { forge(no_admin, alice).verify_self(); }) != ErrorKind{});
    auto twice = draft_of(g);
    twice.previous = {};  // a genesis follows nothing
    twice.members.push_back(twice.members.front());
    CHECK(kind_of([&] { forge(twice, alice).verify_self(); }) == ErrorKind::invalid_argument);
    auto odd_role = draft_of(g);
    odd_role.previous = {};  // a genesis follows nothing
    set_role(odd_role, bob.veil_id(), 7);
    CHECK(kind_of([&] { forge(odd_role, alice).verify_self(); }) == ErrorKind::invalid_argument);
    std::vector<VeilId> crowd(GroupState::max_members);
    for (auto& id : crowd) id = Identity::generate().veil_id();
    CHECK(kind_of([&] { (void)GroupState::create(alice, "crowd", crowd, 1000); }) == ErrorKind::too_large);
    crowd.pop_back();
    CHECK(GroupState::create(alice, "crowd", crowd, 1000).members().size() == GroupState::max_members);
}

TEST_CASE("group - a sender chain delivers each message once, in any order", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    auto mine = SenderChain::create(g.group_id(), g.epoch());
    CHECK(mine.can_send());
    auto theirs = SenderChain::from_distribution(SenderKeyDistribution::decode(mine.distribution().encode().view()));
    CHECK_FALSE(theirs.can_send());
    CHECK(kind_of([&] { theirs.encrypt(text("x")); }) == ErrorKind::no_session);

    std::vector<SenderKeyMessage> sent;
    for (int i = 0; i < 10; ++i) sent.push_back(SenderKeyMessage::decode(mine.encrypt(text("m" + std::to_string(i))).encode()));
    for (int i = 0; i < 5; ++i) CHECK(text_of(theirs.decrypt(sent[i])) == "m" + std::to_string(i));
    CHECK(kind_of([&] { theirs.decrypt(sent[2]); }) == ErrorKind::duplicate_message);

    // 9 first: 5..8 are kept for later, then come in any order, each once.
    CHECK(text_of(theirs.decrypt(sent[9])) == "m9");
    CHECK(theirs.skipped_key_count() == 4);
    for (int i : {6, 5, 8, 7}) CHECK(text_of(theirs.decrypt(sent[i])) == "m" + std::to_string(i));
    CHECK(theirs.skipped_key_count() == 0);
    for (int i : {5, 9}) CHECK(kind_of([&] { theirs.decrypt(sent[i]); }) == ErrorKind::duplicate_message);
}

TEST_CASE("group - a forged or tampered group message moves nothing", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    auto alices = SenderChain::create(g.group_id(), g.epoch());
    auto mallorys = SenderChain::create(g.group_id(), g.epoch());
    auto bobs_copy = SenderChain::from_distribution(alices.distribution());

    auto real = alices.encrypt(text("hello"));
    // Mallory, a member, holds Alice's chain key too (she got its distribution) but not its
    // signing key: a message she makes under Alice's chain key name does not verify.
    auto forged = real;
    forged.ciphertext[0] ^= 1;
    CHECK(kind_of([&] { bobs_copy.decrypt(forged); }) == ErrorKind::bad_signature);
    auto mine = mallorys.encrypt(text("I am Alice"));
    auto relabelled = mine;
    relabelled.signing_key = real.signing_key;
    CHECK(kind_of([&] { bobs_copy.decrypt(relabelled); }) == ErrorKind::bad_signature);
    auto ahead = real;
    ahead.iteration = 500;
    CHECK(kind_of([&] { bobs_copy.decrypt(ahead); }) == ErrorKind::bad_signature);
    CHECK(kind_of([&] { bobs_copy.decrypt(mine); }) == ErrorKind::untrusted_key);
    auto other_epoch = real;
    other_epoch.epoch = 2;
    CHECK(kind_of([&] { bobs_copy.decrypt(other_epoch); }) == ErrorKind::untrusted_key);

    // Nothing moved: the real message still opens.
    CHECK(bobs_copy.iteration() == 0);
    CHECK(bobs_copy.skipped_key_count() == 0);
    CHECK(text_of(bobs_copy.decrypt(real)) == "hello");
}

TEST_CASE("group - gaps are bounded: 1000 ahead at most, 1000 keys kept at most", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    auto mine = SenderChain::create(g.group_id(), g.epoch());
    auto theirs = SenderChain::from_distribution(mine.distribution());
    std::vector<SenderKeyMessage> sent;
    for (int i = 0; i < 1600; ++i) sent.push_back(mine.encrypt(text(std::to_string(i))));

    CHECK(kind_of([&] { theirs.decrypt(sent[1001]); }) == ErrorKind::too_many_skipped);
    CHECK(theirs.iteration() == 0);
    CHECK(text_of(theirs.decrypt(sent[1000])) == "1000");
    CHECK(theirs.skipped_key_count() == SenderChain::max_skipped_keys);
    // 598 more skipped (1001..1598): the 598 oldest kept keys (0..597) go.
    CHECK(text_of(theirs.decrypt(sent[1599])) == "1599");
    CHECK(theirs.skipped_key_count() == SenderChain::max_skipped_keys);
    CHECK(kind_of([&] { theirs.decrypt(sent[0]); }) == ErrorKind::duplicate_message);
    CHECK(kind_of([&] { theirs.decrypt(sent[597]); }) == ErrorKind::duplicate_message);
    CHECK(text_of(theirs.decrypt(sent[598])) == "598");
    CHECK(text_of(theirs.decrypt(sent[1598])) == "1598");
}

TEST_CASE("group - a new member reads nothing sent before it got the chain", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    auto mine = SenderChain::create(g.group_id(), g.epoch());
    std::vector<SenderKeyMessage> before;
    for (int i = 0; i < 3; ++i) before.push_back(mine.encrypt(text("old")));
    auto newcomer = SenderChain::from_distribution(mine.distribution());
    CHECK(newcomer.iteration() == 3);
    for (const auto& m : before) CHECK(kind_of([&] { newcomer.decrypt(m); }) == ErrorKind::duplicate_message);
    CHECK(text_of(newcomer.decrypt(mine.encrypt(text("new")))) == "new");
}

TEST_CASE("group - after a removal the removed member's chains open nothing new", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);
    auto alice1 = SenderChain::create(v1.group_id(), v1.epoch());
    auto carols = SenderChain::from_distribution(alice1.distribution());
    CHECK(text_of(carols.decrypt(alice1.encrypt(text("before")))) == "before");

    auto v2 = v1.with_removed(alice, ids({&carol}), 2000);
    auto alice2 = SenderChain::create(v2.group_id(), v2.epoch());  // given to Bob only
    auto bobs = SenderChain::from_distribution(alice2.distribution());
    auto after = alice2.encrypt(text("after"));
    CHECK(text_of(bobs.decrypt(after)) == "after");
    CHECK(kind_of([&] { carols.decrypt(after); }) == ErrorKind::untrusted_key);
    // Even relabelled into Carol's old chain, the message does not verify there.
    auto relabelled = after;
    relabelled.epoch = alice1.epoch();
    relabelled.signing_key = alice1.signing_key();
    CHECK(kind_of([&] { carols.decrypt(relabelled); }) == ErrorKind::bad_signature);
    // And the mailbox moved where Carol's copy of v1 does not lead.
    CHECK(v2.mailbox_keys().pub != v1.mailbox_keys().pub);
}

TEST_CASE("group - chains and distributions survive storage, mid-gap", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    auto mine = SenderChain::create(g.group_id(), g.epoch());
    auto theirs = SenderChain::from_distribution(mine.distribution());
    std::vector<SenderKeyMessage> sent;
    for (int i = 0; i < 6; ++i) sent.push_back(mine.encrypt(text(std::to_string(i))));
    CHECK(text_of(theirs.decrypt(sent[4])) == "4");

    auto mine2 = SenderChain::deserialize(mine.serialize().view());
    auto theirs2 = SenderChain::deserialize(theirs.serialize().view());
    CHECK(mine2.can_send());
    CHECK_FALSE(theirs2.can_send());
    CHECK(theirs2.skipped_key_count() == 4);
    CHECK(text_of(theirs2.decrypt(sent[1])) == "1");
    CHECK(text_of(theirs2.decrypt(sent[5])) == "5");
    CHECK(text_of(theirs2.decrypt(mine2.encrypt(text("6")))) == "6");
    CHECK(kind_of([&] { theirs2.decrypt(sent[4]); }) == ErrorKind::duplicate_message);

    auto d = mine.distribution().encode();
    CHECK(d.size() == SenderKeyDistribution::encoded_bytes);
    Bytes cut(d.view().begin(), d.view().end() - 1);
    CHECK(kind_of([&] { SenderKeyDistribution::decode(cut); }) == ErrorKind::malformed);
    auto m = sent[0].encode();
    m.push_back(0);
    CHECK(kind_of([&] { SenderKeyMessage::decode(m); }) == ErrorKind::malformed);
    auto state = theirs.serialize();
    Bytes bad(state.view().begin(), state.view().end());
    bad[1 + 32 + 8 + 32] = 1;  // claims to be our own chain, without a seed that matches
    CHECK(kind_of([&] { SenderChain::deserialize(bad); }) == ErrorKind::malformed);
}

TEST_CASE("group - versions follow one by one: a removed admin cannot jump over its removal", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);
    auto v2 = v1.with_role(alice, bob.veil_id(), GroupRole::admin, 2000);
    auto v3 = v2.with_removed(alice, ids({&bob}), 3000);  // Carol misses this one
    auto carols = v2.clone();

    // Bob, admin in v2, signs a far later version over it to fork Carol away from v3.
    auto fork = draft_of(v2);
    fork.version = 9;
    fork.issued_ms = 9000;
    CHECK_NOTHROW(forge(fork, bob).verify_self());
    CHECK(kind_of([&] { GroupState::accept_update(carols, forge(fork, bob)); }) == ErrorKind::too_many_skipped);
    // Nor the top of the range, which would freeze the group (nothing is newer).
    auto top = draft_of(v2);
    top.version = UINT64_MAX;
    CHECK(kind_of([&] { forge(top, alice).verify_self(); }) == ErrorKind::too_large);
    CHECK(kind_of([&] { GroupState::accept_update(carols, forge(top, alice)); }) == ErrorKind::too_large);
    auto far_epoch = draft_of(v2);
    far_epoch.version = 3;
    far_epoch.epoch = 3;  // two epochs in one version
    far_epoch.seed[0] ^= 1;
    CHECK(kind_of([&] { GroupState::accept_update(carols, forge(far_epoch, alice)); }) == ErrorKind::invalid_argument);
    // The real next version is taken, and the fork is stale after it.
    carols = GroupState::accept_update(carols, v3.clone());
    CHECK_FALSE(carols.is_member(bob.veil_id()));
    CHECK(kind_of([&] { GroupState::accept_update(carols, forge(fork, bob)); }) == ErrorKind::too_many_skipped);
    auto race = draft_of(v2);  // Bob's own version 3, come too late
    race.version = 3;
    CHECK(kind_of([&] { GroupState::accept_update(carols, forge(race, bob)); }) == ErrorKind::stale_version);
}

TEST_CASE("group - a group not held yet is believed from its history only", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto mallory = Identity::generate();
    auto dave = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &mallory}), 1000);
    auto v2 = v1.with_added(alice, ids({&dave}), 2000);

    // Mallory, a member, signs a later state of the same group naming herself admin: it
    // verifies on its own, so a newcomer must not take it on that.
    auto claim = draft_of(v2);
    claim.version = 3;
    set_role(claim, mallory.veil_id(), 2);
    CHECK_NOTHROW(forge(claim, mallory).verify_self());
    std::vector<GroupState> alone;
    alone.push_back(forge(claim, mallory));
    CHECK(kind_of([&] { GroupState::accept_history(std::move(alone)); }) == ErrorKind::untrusted_key);
    std::vector<GroupState> chained;
    chained.push_back(v1.public_copy());
    chained.push_back(v2.public_copy());
    chained.push_back(forge(claim, mallory));
    CHECK(kind_of([&] { GroupState::accept_history(std::move(chained)); }) == ErrorKind::untrusted_key);

    // Nor a genesis she signs herself in the creator's name.
    auto genesis = draft_of(v1);
    set_role(genesis, mallory.veil_id(), 2);
    std::vector<GroupState> own_genesis;
    own_genesis.push_back(forge(genesis, mallory));
    CHECK(kind_of([&] { GroupState::accept_history(std::move(own_genesis)); }) == ErrorKind::untrusted_key);

    // The real history: earlier versions without their seeds, the last one with it.
    std::vector<GroupState> real;
    real.push_back(GroupState::decode(v1.public_copy().encode().view()));
    real.push_back(v2.clone());
    auto taken = GroupState::accept_history(std::move(real));
    CHECK(taken.version() == 2);
    CHECK(taken.mailbox_keys().pub == v2.mailbox_keys().pub);
    // A history state holds no seed: the newcomer cannot open the old mailbox.
    CHECK_FALSE(v1.public_copy().has_seed());
    CHECK(kind_of([&] { (void)v1.public_copy().mailbox_keys(); }) == ErrorKind::no_session);
    CHECK(v1.public_copy().encode().size() + 32 == v1.encode().size());
    // A seed that is not the signed mailbox's does not decode.
    auto bytes = v2.encode();
    Bytes wrong_seed(bytes.view().begin(), bytes.view().end());
    wrong_seed.back() ^= 1;
    CHECK(kind_of([&] { GroupState::decode(wrong_seed); }) == ErrorKind::malformed);
    // A history that leaves out a version that changed the admins (Bob became one), or without
    // the seed at its end, is refused.
    auto promoted = v1.with_role(alice, bob.veil_id(), GroupRole::admin, 2000);
    std::vector<GroupState> gap;
    gap.push_back(v1.public_copy());
    gap.push_back(promoted.with_removed(bob, ids({&mallory}), 3000));
    CHECK(kind_of([&] { GroupState::accept_history(std::move(gap)); }) == ErrorKind::untrusted_key);
    std::vector<GroupState> no_seed;
    no_seed.push_back(v1.public_copy());
    CHECK(kind_of([&] { GroupState::accept_history(std::move(no_seed)); }) == ErrorKind::invalid_argument);
}

TEST_CASE("group - an admin cannot remove itself and keep the new mailbox", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob}), 1000);
    auto v2 = v1.with_role(alice, bob.veil_id(), GroupRole::admin, 2000);
    CHECK(kind_of([&] { (void)v2.with_removed(alice, ids({&alice}), 3000); }) == ErrorKind::invalid_argument);
    // Signed by hand, the others refuse it: its signer is not in it.
    auto self_removal = draft_of(v2);
    self_removal.version = 3;
    self_removal.epoch = 3;
    self_removal.seed[0] ^= 1;
    drop(self_removal, alice.veil_id());
    CHECK(kind_of([&] { GroupState::accept_update(v2, forge(self_removal, alice)); }) == ErrorKind::untrusted_key);
    // Another admin removes her.
    CHECK_NOTHROW(GroupState::accept_update(v2, v2.with_removed(bob, ids({&alice}), 3000)));
}

TEST_CASE("group - a chain's last iteration is never taken (the stored chain would wrap)", "[crypto][group]") {
    auto alice = Identity::generate();
    auto g = GroupState::create(alice, "team", {}, 1000);
    // A hostile member hands out its chain two keys before the end and writes a message at the
    // last iteration by hand (its client's encrypt stops before it).
    const auto signer = SigningKeyPair::generate();
    SenderKeyDistribution d;
    d.group_id = g.group_id();
    d.epoch = g.epoch();
    d.signing_key = signer.pub;
    d.iteration = UINT32_MAX - 1;
    d.chain_key = SecretBytes::random(32);
    auto reader = SenderChain::from_distribution(d);
    auto ck = d.chain_key.clone();
    std::uint8_t mk[32];
    const std::uint8_t one = 1;
    const std::uint8_t two = 2;
    for (int i = 0; i < 2; ++i) {
        crypto_auth_hmacsha256(mk, &one, 1, ck.data());
        crypto_auth_hmacsha256(ck.data(), &two, 1, ck.data());
    }
    const auto keys = hkdf_sha256(ByteView{mk, 32}, {}, label("Veil_SenderKey_MessageKey_v1"), 56);
    SenderKeyMessage m;
    m.group_id = d.group_id;
    m.epoch = d.epoch;
    m.signing_key = signer.pub;
    m.iteration = UINT32_MAX;
    veil::wire::Writer ad;
    ad.raw(m.group_id).u64(m.epoch).raw(m.signing_key).u32(m.iteration);
    const auto plain = text("wrap");
    m.ciphertext.resize(plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(m.ciphertext.data(), nullptr, plain.data(), plain.size(),
                                               ad.bytes().data(), ad.bytes().size(), nullptr,
                                               keys.data() + 32, keys.data());
    veil::wire::Writer to_sign;
    to_sign.str("Veil_SenderKeyMessage_v1").raw(m.group_id).u64(m.epoch).raw(m.signing_key).u32(m.iteration).var(m.ciphertext);
    m.signature = signer.sign(to_sign.bytes());

    CHECK(kind_of([&] { reader.decrypt(m); }) == ErrorKind::too_large);
    CHECK(reader.iteration() == UINT32_MAX - 1);
    // What is stored still loads.
    CHECK_NOTHROW(SenderChain::deserialize(reader.serialize().view()));
    d.iteration = UINT32_MAX;
    CHECK(kind_of([&] { (void)SenderChain::from_distribution(d); }) == ErrorKind::too_large);
}

TEST_CASE("group - an admin line leaves out only what kept the admins", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol}), 1000);
    auto v2 = v1.with_rotated(alice);
    auto v3 = v2.with_removed(alice, ids({&carol}), 3000);
    auto v4 = v3.with_role(alice, bob.veil_id(), GroupRole::admin, 4000);
    auto v5 = v4.with_rotated(bob);
    // v2 and v3 kept the admins: the line 1, 4, 5 checks.
    std::vector<GroupState> line;
    line.push_back(v1.public_copy());
    line.push_back(v4.public_copy());
    line.push_back(v5.clone());
    CHECK(GroupState::accept_history(std::move(line)).version() == 5);
    // v4 made Bob an admin: a line without it does not check (Bob signs v5).
    std::vector<GroupState> short_line;
    short_line.push_back(v1.public_copy());
    short_line.push_back(v5.clone());
    CHECK(kind_of([&] { GroupState::accept_history(std::move(short_line)); }) == ErrorKind::untrusted_key);
    // A jump goes forward only, and keeps the mailbox within an epoch.
    CHECK(kind_of([&] { GroupState::accept_jump(v4, v2.clone()); }) == ErrorKind::stale_version);
    auto same_epoch = draft_of(v2);
    same_epoch.version = 9;
    same_epoch.seed[0] ^= 1;  // a new mailbox without a new epoch
    CHECK(kind_of([&] { GroupState::accept_jump(v2, forge(same_epoch, alice)); }) == ErrorKind::invalid_argument);
    // Two rotations never share a seed: nothing the group's ID, version or admin holds derives it.
    CHECK(v1.with_rotated(alice).mailbox_key() != v1.with_rotated(alice).mailbox_key());
}

TEST_CASE("group - a fork is decided by the first state of each branch, the same on every device", "[crypto][group]") {
    auto alice = Identity::generate();
    // Xavier's ID is the lower: the fixed order alone would keep his fork.
    auto xavier = Identity::generate();
    while (!(xavier.veil_id() < alice.veil_id())) xavier = Identity::generate();
    auto bob = Identity::generate();
    auto newcomer = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&xavier, &bob}), 1000);
    auto v2 = v1.with_role(alice, xavier.veil_id(), GroupRole::admin, 2000);
    // Alice removes Xavier; Xavier, never told, signs his own v3 over v2 adding a newcomer.
    auto real3 = v2.with_removed(alice, ids({&xavier}), 3000);
    auto real4 = real3.with_added(alice, ids({&newcomer}), 4000);
    auto fork3 = v2.with_added(xavier, ids({&newcomer}), 3000);
    CHECK(GroupState::prefers(v2, {&fork3}, {&real3, &real4}));
    CHECK_FALSE(GroupState::prefers(v2, {&real3, &real4}, {&fork3}));
    // Length and version decide nothing (review, HIGH 1): the removed admin's longer branch
    // still loses.
    auto fork4 = fork3.with_rotated(xavier);
    auto fork5 = fork4.with_rotated(xavier);
    CHECK_FALSE(GroupState::prefers(v2, {&real3}, {&fork3, &fork4, &fork5}));
    // Neither do many admins signing (review, HIGH 2): promoted admins' signatures are not counted.
    auto bob_admin = v2.with_role(alice, bob.veil_id(), GroupRole::admin, 2500);
    auto by_alice = bob_admin.with_rotated(alice);
    auto by_bob = by_alice.with_rotated(bob);
    auto solo = bob_admin.with_rotated(xavier);
    const bool solo_first = GroupState::prefers(bob_admin, {&by_alice, &by_bob}, {&solo});
    CHECK(GroupState::prefers(bob_admin, {&by_alice}, {&solo}) == solo_first);
    CHECK(solo_first == (xavier.veil_id() < alice.veil_id()));
    // A removal or rotation beats a role change, whoever signed it (review, MEDIUM).
    auto demote_by_xavier = v2.with_role(xavier, bob.veil_id(), GroupRole::admin, 3000);
    auto rotate_by_alice = v2.with_rotated(alice);
    CHECK(GroupState::prefers(v2, {&demote_by_xavier}, {&rotate_by_alice}));
    CHECK_FALSE(GroupState::prefers(v2, {&rotate_by_alice}, {&demote_by_xavier}));
    // A total order: of any set of rival first states, every pair agrees on one winner, and
    // three admins removing one another in a circle still have one (review, HIGH 3).
    auto carol = Identity::generate();
    auto v3c = v2.with_added(alice, ids({&carol}), 3000);
    auto all_admins = v3c.with_role(alice, bob.veil_id(), GroupRole::admin, 3100)
                          .with_role(alice, carol.veil_id(), GroupRole::admin, 3200);
    auto a_out_b = all_admins.with_removed(alice, ids({&bob}), 4000);
    auto b_out_c = all_admins.with_removed(bob, ids({&carol}), 4000);
    auto c_out_a = all_admins.with_removed(carol, ids({&alice}), 4000);
    auto role = all_admins.with_role(xavier, carol.veil_id(), GroupRole::member, 4000);
    auto spin = all_admins.with_rotated(xavier);
    std::vector<const GroupState*> rivals{&a_out_b, &b_out_c, &c_out_a, &role, &spin};
    for (const auto* x : rivals) {
        for (const auto* y : rivals) {
            if (x == y) continue;
            CHECK(GroupState::prefers(all_admins, {x}, {y}) != GroupState::prefers(all_admins, {y}, {x}));
            for (const auto* z : rivals) {
                if (GroupState::prefers(all_admins, {x}, {y}) && GroupState::prefers(all_admins, {y}, {z})) {
                    CHECK(GroupState::prefers(all_admins, {x}, {z}));
                }
            }
        }
    }
}

TEST_CASE("group - a state applies only on the state it was made from", "[crypto][group]") {
    auto alice = Identity::generate();
    auto bob = Identity::generate();
    auto carol = Identity::generate();
    auto dave = Identity::generate();
    auto v1 = GroupState::create(alice, "team", ids({&bob, &carol, &dave}), 1000);
    auto v2 = v1.with_role(alice, bob.veil_id(), GroupRole::admin, 2000);
    auto v3 = v2.with_role(alice, carol.veil_id(), GroupRole::admin, 3000);
    // Bob signs v4 and v5; Carol concurrently removes Dave at her v4 (review, HIGH 3).
    auto bob4 = v3.with_role(bob, dave.veil_id(), GroupRole::admin, 4000);
    auto bob5 = bob4.with_role(bob, dave.veil_id(), GroupRole::member, 5000);
    auto carol4 = v3.with_removed(carol, ids({&dave}), 4000);
    CHECK(bob5.previous() == bob4.digest());
    CHECK_NOTHROW(GroupState::accept_update(bob4, bob5.clone()));
    // Bob's v5 is of the other branch: it does not apply over Carol's v4.
    CHECK(kind_of([&] { GroupState::accept_update(carol4, bob5.clone()); }) == ErrorKind::untrusted_key);
    // Nor a made-up state naming another predecessor, even one signed by an admin.
    auto other = draft_of(carol4);
    other.version = 5;
    other.previous[0] ^= 1;
    CHECK(kind_of([&] { GroupState::accept_update(carol4, forge(other, alice)); }) == ErrorKind::untrusted_key);
    auto fine = draft_of(carol4);
    fine.version = 5;
    CHECK_NOTHROW(GroupState::accept_update(carol4, forge(fine, alice)));
    // A genesis follows nothing.
    auto genesis = draft_of(v1);
    CHECK(kind_of([&] { forge(genesis, alice).verify_self(); }) == ErrorKind::untrusted_key);
    // A jump (a newcomer's admin line) may not change members within an epoch.
    auto swap = draft_of(v3);
    swap.version = 9;
    drop(swap, dave.veil_id());
    CHECK(kind_of([&] { GroupState::accept_jump(v3, forge(swap, alice)); }) == ErrorKind::invalid_argument);
}
