// Closed groups end to end (issue 17) on a 9-node onion testnet of real processes: `veil group`
// and `veil send GROUP` by the CLI, every device reading the group mailbox; every device gets
// every message exactly once and in order per sender, a non-admin cannot change the group, and a
// removed member reads nothing sent after its removal.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "messenger_helpers.hpp"

using namespace veil;
using namespace veil::test::messenger_helpers;
using test::Testnet;

namespace {

struct GroupLine {
    std::string from, text, group;
};

// The group messages a receive printed (one JSON object a line).
std::vector<GroupLine> group_lines(const veil::test::ProcessResult& r) {
    std::vector<GroupLine> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        if (!j.contains("group")) continue;
        out.push_back({j["from"].get<std::string>(), j["text"].get<std::string>(), j["group"].get<std::string>()});
    }
    return out;
}

// One device's view: every group message it was ever shown, in order.
struct Device {
    const Person* person;
    std::vector<GroupLine> seen;

    // Receives until `count` group messages were shown in all, or a round brought nothing new.
    void receive_until(std::size_t count) {
        for (int round = 0; round < 6 && seen.size() < count; ++round) {
            auto r = person->run({"receive", "--json", "--wait", "8"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            for (auto& l : group_lines(r)) seen.push_back(std::move(l));
        }
    }
    [[nodiscard]] std::vector<std::string> texts_from(const std::string& id) const {
        std::vector<std::string> out;
        for (const auto& l : seen) {
            if (l.from == id) out.push_back(l.text);
        }
        return out;
    }
};

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

TEST_CASE("messenger - a closed group: every device once and in order, admins only, removal",
          "[messenger][integration]") {
    Testnet net(9, 3);
    Person alice(net, "alice");
    Person bob(net, "bob");
    Person carol(net, "carol");
    Person carol_tablet(net, "carol-tablet", carol);
    Person dave(net, "dave");
    // Bob and Carol know Alice: her invitation is not a request for them.
    for (const Person* p : {&bob, &carol, &carol_tablet}) {
        REQUIRE(p->run({"contacts", "add", alice.id, "alice"}).exit_code == 0);
    }

    auto created = alice.run({"group", "create", "friends", bob.id, carol.id});
    INFO(created.err);
    REQUIRE(created.exit_code == 0);
    const auto group = first_line(created.out);
    REQUIRE(group.size() == 66);
    REQUIRE(group.starts_with("03"));
    CHECK(alice.run({"group", "list"}).out.find(group + "  friends  3 members  admin") != std::string::npos);

    // Errors a person can act on.
    auto unknown = alice.run({"send", "03" + std::string(64, 'a'), "hi"});
    CHECK(unknown.exit_code != 0);
    CHECK(unknown.err.find("no group has the ID") != std::string::npos);

    for (int i = 1; i <= 3; ++i) {
        auto s = alice.run({"send", group, "alice " + std::to_string(i)});
        INFO(s.err);
        REQUIRE(s.exit_code == 0);
    }
    Device b{&bob, {}}, c{&carol, {}}, ct{&carol_tablet, {}}, a{&alice, {}};
    for (auto* d : {&b, &c, &ct}) d->receive_until(3);
    const std::vector<std::string> from_alice{"alice 1", "alice 2", "alice 3"};
    for (auto* d : {&b, &c, &ct}) {
        CHECK(d->texts_from(alice.id) == from_alice);
        for (const auto& l : d->seen) CHECK(l.group == group);
    }
    auto members = bob.run({"group", "members", group, "--json"});
    REQUIRE(members.exit_code == 0);
    CHECK(members.out.find("\"role\":\"admin\"") != std::string::npos);

    // Bob writes (his chain goes to every device first), then Carol's tablet.
    REQUIRE(bob.run({"send", group, "bob 1"}).exit_code == 0);
    REQUIRE(bob.run({"send", group, "bob 2"}).exit_code == 0);
    REQUIRE(carol_tablet.run({"send", group, "carol 1"}).exit_code == 0);
    a.receive_until(3);
    c.receive_until(3 + 3);
    b.receive_until(3 + 1);
    ct.receive_until(3 + 2);
    CHECK(a.texts_from(bob.id) == std::vector<std::string>{"bob 1", "bob 2"});
    CHECK(a.texts_from(carol.id) == std::vector<std::string>{"carol 1"});
    CHECK(b.texts_from(carol.id) == std::vector<std::string>{"carol 1"});
    CHECK(c.texts_from(bob.id) == std::vector<std::string>{"bob 1", "bob 2"});
    CHECK(c.texts_from(carol.id) == std::vector<std::string>{"carol 1"});  // written by her other device
    CHECK(ct.texts_from(bob.id) == std::vector<std::string>{"bob 1", "bob 2"});
    CHECK(ct.texts_from(carol.id).empty());  // its own message is not shown to it again

    // A member who is not an admin cannot change the group.
    auto refused = bob.run({"group", "add", group, dave.id});
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("only an admin") != std::string::npos);

    // Alice removes Carol; what she sends then is for Bob only.
    auto removed = alice.run({"group", "remove", group, carol.id});
    INFO(removed.err);
    REQUIRE(removed.exit_code == 0);
    REQUIRE(alice.run({"send", group, "after carol left"}).exit_code == 0);
    b.receive_until(3 + 1 + 1);
    CHECK(b.texts_from(alice.id) == std::vector<std::string>{"alice 1", "alice 2", "alice 3", "after carol left"});
    for (auto* d : {&c, &ct}) {
        auto r = d->person->run({"receive", "--json"});
        REQUIRE(r.exit_code == 0);
        for (auto& l : group_lines(r)) d->seen.push_back(std::move(l));
        CHECK(d->texts_from(alice.id) == from_alice);
    }

    // Items read per poll: a group mailbox read logs how many items the member served. Once a
    // member has given everything, the next poll from it reads only what is new (nothing here);
    // before the cursors every poll read the whole mailbox.
    auto items_read = [](const veil::test::ProcessResult& r) {
        std::size_t total = 0;
        const std::string mark = "a group mailbox read: ";
        for (auto at = r.err.find(mark); at != std::string::npos; at = r.err.find(mark, at + 1)) {
            total += std::stoul(r.err.substr(at + mark.size()));
        }
        return total;
    };
    std::vector<std::size_t> polls;
    for (int i = 0; i < 6; ++i) {
        auto r = bob.run({"receive", "--json", "--log-level", "debug"});
        REQUIRE(r.exit_code == 0);
        CHECK(group_lines(r).empty());  // nothing shown twice
        polls.push_back(items_read(r));
    }
    WARN("items read per poll by Bob (3 members per swarm; his mailboxes hold 6 items): " << polls[0] << " "
         << polls[1] << " " << polls[2] << " " << polls[3] << " " << polls[4] << " " << polls[5]);
    // Each member of the swarm (3) serves a mailbox whole at most once, the first time it is
    // picked without a cursor: six polls read at most 3 x 6 items in all (before: 6 x 6). One poll
    // may read a mailbox twice: when a chain a waiting envelope was given up for arrives, that
    // mailbox is read again from the start (seen: 7 3 0 1 0 0).
    std::size_t sum = 0;
    for (auto n : polls) {
        CHECK(n <= 2 * 6);
        sum += n;
    }
    CHECK(sum <= 3 * 6);

    // A stranger's group is a request: Dave declines it. Blocking Alice drops the request she
    // brought next, and her invitations after that are dropped unread.
    auto spam = first_line(alice.run({"group", "create", "spam", dave.id}).out);
    REQUIRE(spam.size() == 66);
    REQUIRE(dave.run({"receive", "--json", "--wait", "5"}).exit_code == 0);
    CHECK(eventually([&] { return dave.run({"group", "list"}).out.find(spam + "  spam  2 members  request") != std::string::npos; }, 1));
    auto declined = dave.run({"group", "decline", spam});
    INFO(declined.err);
    CHECK(declined.exit_code == 0);
    CHECK(dave.run({"group", "list"}).out.find(spam) == std::string::npos);
    CHECK(dave.run({"group", "decline", spam}).exit_code != 0);
    auto more = first_line(alice.run({"group", "create", "more spam", dave.id}).out);
    REQUIRE(dave.run({"receive", "--json", "--wait", "5"}).exit_code == 0);
    CHECK(dave.run({"group", "list"}).out.find(more + "  more spam  2 members  request") != std::string::npos);
    REQUIRE(dave.run({"contacts", "block", alice.id}).exit_code == 0);
    CHECK(dave.run({"group", "list"}).out.find(more) == std::string::npos);
    auto third = first_line(alice.run({"group", "create", "third", dave.id}).out);
    REQUIRE(dave.run({"receive", "--json", "--wait", "5"}).exit_code == 0);
    CHECK(dave.run({"group", "list"}).out.find(third) == std::string::npos);

    // Alice makes Bob an admin; Bob leaves: Alice's client signs his removal.
    REQUIRE(alice.run({"group", "admin", group, bob.id}).exit_code == 0);
    b.receive_until(b.seen.size() + 1);  // the new state (no message to show)
    CHECK(bob.run({"group", "members", group}).out.find(bob.id + "  admin") != std::string::npos);
    auto left = bob.run({"group", "leave", group});
    INFO(left.err);
    REQUIRE(left.exit_code == 0);
    CHECK(bob.run({"group", "list"}).out.find(group) == std::string::npos);
    REQUIRE(alice.run({"receive", "--json", "--wait", "5"}).exit_code == 0);
    CHECK(eventually([&] { return alice.run({"group", "members", group}).out.find(bob.id) == std::string::npos; }, 1));
    auto alone = alice.run({"group", "members", group, "--json"});
    CHECK(alone.out == nlohmann::json{{"id", alice.id}, {"role", "admin"}}.dump() + "\n");
}
