// The web server on a test loop with real sockets on 127.0.0.1: login, cookie, Host and Origin
// checks, headers, the WebSocket and the upload and media endpoints.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/loop.hpp"
#include "server.hpp"
#include "socket_client.hpp"
#include "veil/sdk/messenger.hpp"

namespace fs = std::filesystem;
using namespace veil;
using namespace veil::web;
using namespace veil::web::test;
using nlohmann::json;

namespace {

// One server on its own loop, bus and HOME; checks at the end that every handle closed.
struct Harness {
    veil::test::TestLoop loop;
    std::optional<sdk::Bus> bus;
    sdk::CommandRegistry commands;
    veil::test::TempDir home;
    std::unique_ptr<sdk::Context> ctx;
    std::unique_ptr<WebServer> server;

    explicit Harness(std::uint64_t max_upload_bytes = 1024) {
        bus.emplace(loop.get());
        sdk::Context::Parts parts;
        parts.loop = loop.get();
        parts.bus = &*bus;
        parts.commands = &commands;
        parts.plugin_name = "web";
        parts.home_dir = home.path();
        parts.request_stop = [](int) {};
        ctx = std::make_unique<sdk::Context>(std::move(parts));
        ServerOptions o;
        o.listen = parse_listen("127.0.0.1:0");
        o.max_upload_bytes = max_upload_bytes;
        o.data_dir = ctx->data_dir();
        o.request_timeout_ms = 2000;
        server = std::make_unique<WebServer>(*ctx, o);
    }
    ~Harness() {
        server->stop();
        server.reset();
        ctx.reset();
        bus.reset();
        loop.run_until([&] { return !uv_loop_alive(loop.get()); });
        CHECK(loop.close() == 0);
    }
    std::uint16_t port() const { return server->port(); }
    std::string token() const {
        auto url = server->login_url();
        return url.substr(url.find("token=") + 6);
    }
    // Runs `f` on a client thread while the loop serves.
    template <class F>
    auto client(F f) {
        auto fut = std::async(std::launch::async, std::move(f));
        REQUIRE(loop.run_until([&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }));
        return fut.get();
    }
    // Logs in and returns "name=value" of the session cookie.
    std::string login() {
        auto r = client([p = port(), t = token()] { return http(p, get_request(p, "/login?token=" + t)); });
        REQUIRE(r.status == 303);
        auto set = r.header("set-cookie");
        REQUIRE(set);
        return set->substr(0, set->find(';'));
    }
};

void check_safety_headers(const HttpReply& r) {
    CHECK(r.header("cache-control") == std::optional<std::string>("no-store"));
    CHECK(r.header("x-content-type-options") == std::optional<std::string>("nosniff"));
    CHECK(r.header("referrer-policy") == std::optional<std::string>("no-referrer"));
    auto csp = r.header("content-security-policy");
    REQUIRE(csp);
    CHECK(csp->find("default-src 'none'") != std::string::npos);
}

}  // namespace

TEST_CASE("web - the login token becomes a session cookie; nothing gets in without it", "[web]") {
    Harness h;
    auto p = h.port();
    auto anon = h.client([p] { return http(p, get_request(p, "/")); });
    CHECK(anon.status == 401);
    check_safety_headers(anon);
    CHECK(h.client([p] { return http(p, get_request(p, "/app.js")); }).status == 401);
    CHECK(h.client([p] { return http(p, get_request(p, "/login?token=" + std::string(64, '0'))); }).status == 401);
    CHECK(h.client([p] { return http(p, get_request(p, "/login")); }).status == 401);

    auto login = h.client([p, t = h.token()] { return http(p, get_request(p, "/login?token=" + t)); });
    CHECK(login.status == 303);
    CHECK(login.header("location") == std::optional<std::string>("/"));
    check_safety_headers(login);
    auto set = login.header("set-cookie").value_or("");
    CHECK(set.find("HttpOnly") != std::string::npos);
    CHECK(set.find("SameSite=Strict") != std::string::npos);
    auto cookie = set.substr(0, set.find(';'));

    auto page = h.client([p, cookie] { return http(p, get_request(p, "/", "Cookie: " + cookie + "\r\n")); });
    CHECK(page.status == 200);
    check_safety_headers(page);
    CHECK(page.header("content-type").value_or("").rfind("text/html", 0) == 0);
    CHECK(page.body.find("<script src=\"/app.js\"") != std::string::npos);
    CHECK(page.body.find("<script>") == std::string::npos);  // no inline script anywhere
    auto js = h.client([p, cookie] { return http(p, get_request(p, "/app.js", "Cookie: " + cookie + "\r\n")); });
    CHECK(js.status == 200);
    CHECK(js.header("content-type").value_or("").rfind("text/javascript", 0) == 0);
    CHECK(h.client([p, cookie] { return http(p, get_request(p, "/etc/passwd", "Cookie: " + cookie + "\r\n")); }).status == 404);
    // Another server's cookie name, or a wrong value, is not a session.
    auto wrong = "Cookie: " + cookie.substr(0, cookie.find('=') + 1) + std::string(64, 'f') + "\r\n";
    CHECK(h.client([p, wrong] { return http(p, get_request(p, "/", wrong)); }).status == 401);
}

TEST_CASE("web - a foreign Host or Origin is refused even with the cookie", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = "Cookie: " + h.login() + "\r\n";
    auto rebound = h.client([p, cookie] {
        return http(p, "GET / HTTP/1.1\r\nHost: attacker.example:" + std::to_string(p) + "\r\n" + cookie + "\r\n");
    });
    CHECK(rebound.status == 403);
    check_safety_headers(rebound);
    CHECK(h.client([p, cookie] {
              return http(p, get_request(p, "/", cookie + "Origin: http://attacker.example\r\n"));
          }).status == 403);
    CHECK(h.client([p, cookie] {
              return http(p, get_request(p, "/", cookie + "Origin: null\r\n"));
          }).status == 403);
    CHECK(h.client([p, cookie] {
              return http(p, get_request(p, "/", cookie + "Origin: http://localhost:" + std::to_string(p) + "\r\n"));
          }).status == 200);
    // The login itself is refused from another site, so a page elsewhere cannot log a browser in.
    CHECK(h.client([p, t = h.token()] {
              return http(p, get_request(p, "/login?token=" + t, "Origin: http://attacker.example\r\n"));
          }).status == 403);
}

TEST_CASE("web - the WebSocket needs the cookie, this Host and this Origin", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = "Cookie: " + h.login() + "\r\n";
    auto origin = "Origin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    CHECK(h.client([p, origin] { return WsClient(p, origin).status; }) == 401);
    CHECK(h.client([p, cookie] { return WsClient(p, cookie + "Origin: http://attacker.example\r\n").status; }) == 403);
    CHECK(h.client([p, cookie, origin] { return WsClient(p, cookie + origin).status; }) == 101);
}

TEST_CASE("web - WebSocket commands get answers and events arrive live", "[web]") {
    Harness h;
    auto p = h.port();
    auto headers = "Cookie: " + h.login() + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    sdk::Bus* bus = &*h.bus;
    auto frames = h.client([p, headers, bus] {
        WsClient ws(p, headers);
        std::vector<json> out;
        ws.send_text("not json");
        out.push_back(json::parse(ws.read_text()));
        ws.send_text(R"({"id":2,"method":"list_conversations"})");  // no messenger on this bus
        out.push_back(json::parse(ws.read_text()));
        ws.send_text(R"({"id":3,"method":"mark_read","params":{"peer":"05"}})");
        out.push_back(json::parse(ws.read_text()));
        sdk::messenger::MessageAdded e;
        e.message.id = std::string(32, 'a');
        e.message.peer = "05" + std::string(64, 'b');
        e.message.text = "hello <b>there</b>";
        bus->publish(std::move(e));
        out.push_back(json::parse(ws.read_text()));
        return out;
    });
    REQUIRE(frames.size() == 4);
    CHECK(frames[0]["error"]["code"] == "bad_input");
    CHECK(frames[0]["id"].is_null());
    CHECK(frames[1]["id"] == 2);
    CHECK(frames[1]["error"]["code"] == "no_handler");
    CHECK(frames[2]["id"] == 3);
    CHECK(frames[2]["error"]["message"].get<std::string>().find("66-character") != std::string::npos);
    CHECK(frames[3]["event"] == "message_added");
    CHECK(frames[3]["data"]["text"] == "hello <b>there</b>");
}

TEST_CASE("web - an upload lands in a private directory under HOME, within the size limit", "[web]") {
    Harness h(16);
    auto p = h.port();
    auto cookie = "Cookie: " + h.login() + "\r\n";
    auto post = [p, cookie](const std::string& name, const std::string& body, const std::string& extra = "") {
        return "POST /api/upload?name=" + name + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(p) + "\r\n" + cookie +
               extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    auto ok = h.client([p, req = post("..%2F..%2Fevil.txt", "hello")] { return http(p, req); });
    REQUIRE(ok.status == 200);
    auto j = json::parse(ok.body);
    CHECK(j["name"] == "evil.txt");
    auto file = h.home.path() / "web" / "uploads" / j["upload"].get<std::string>() / "evil.txt";
    REQUIRE(fs::exists(file));
    CHECK(veil::test::read_file(file) == "hello");
    struct stat st{};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(file.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    CHECK(h.client([p, req = post("big.bin", std::string(17, 'x'))] { return http(p, req); }).status == 413);
    CHECK(h.client([p, req = post("x", "hello", "Origin: http://attacker.example\r\n")] { return http(p, req); }).status == 403);
    auto no_len = "POST /api/upload?name=a HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(p) + "\r\n" + cookie + "\r\n";
    CHECK(h.client([p, no_len] { return http(p, no_len); }).status == 411);
}

TEST_CASE("web - media is the messenger's decrypted file, by message id; nothing is read from disk", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = "Cookie: " + h.login() + "\r\n";
    // The kept copy on disk is ciphertext: what the page gets must come from ReadAttachment.
    auto kept = h.home.path() / "attachments" / "cat.sealed";
    fs::create_directories(kept.parent_path());
    std::ofstream(kept) << "CIPHERTEXT";
    namespace sm = sdk::messenger;
    auto served = h.bus->serve<sm::ReadAttachment>([](const sm::ReadAttachment& q, sdk::Responder<sm::AttachmentContent> r) {
        if (q.message_id == std::string(32, '1')) return r.reply({{'P', 'N', 'G', 'D', 'A', 'T', 'A'}, "cat.png", "image/png"});
        if (q.message_id == std::string(32, '3')) return r.reply({{'<', 'b', '>'}, "x.html", "text/html"});
        r.fail(sdk::ErrorCode::not_found, "no received file");
    });
    auto publish = [&](const std::string& id, const std::string& mime) {
        sdk::messenger::MessageAdded e;
        e.message.id = id;
        e.message.attachment = sdk::messenger::AttachmentInfo{"cat.png", mime, 7, kept.string()};
        h.bus->publish(std::move(e));
    };
    publish(std::string(32, '1'), "image/png");
    publish(std::string(32, '2'), "image/png");
    publish(std::string(32, '3'), "text/html");
    h.loop.run_until([] { return false; }, 50);  // deliver the events

    auto get = [&](char c) {
        return h.client([p, cookie, c] { return http(p, get_request(p, "/api/media?id=" + std::string(32, c), cookie)); });
    };
    auto img = get('1');
    CHECK(img.status == 200);
    CHECK(img.body == "PNGDATA");
    CHECK(img.header("content-type") == std::optional<std::string>("image/png"));
    CHECK(img.header("content-security-policy").value_or("").find("sandbox") != std::string::npos);
    CHECK(get('2').status == 404);  // the messenger cannot open it
    auto html = get('3');
    CHECK(html.status == 200);
    CHECK(html.header("content-type") == std::optional<std::string>("application/octet-stream"));
    CHECK(html.header("content-disposition").value_or("").rfind("attachment", 0) == 0);
    CHECK(get('4').status == 404);  // no such message
    CHECK(h.client([p] { return http(p, get_request(p, "/api/media?id=" + std::string(32, '1'))); }).status == 401);
}

TEST_CASE("web - stopping closes open pages' connections and every handle", "[web]") {
    Harness h;
    auto p = h.port();
    auto headers = "Cookie: " + h.login() + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    std::atomic<bool> connected{false};
    auto fut = std::async(std::launch::async, [p, headers, &connected] {
        WsClient ws(p, headers);
        connected = ws.status == 101;
        try {
            ws.read_text();  // nothing is sent: this returns only when the server goes away
            return std::string("a frame");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    REQUIRE(h.loop.run_until([&] { return connected.load(); }));
    h.server->stop();
    REQUIRE(h.loop.run_until([&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }));
    CHECK(fut.get() == "connection closed early");
    CHECK(h.server->port() == 0);
    // ~Harness checks that the loop closes with no handle left.
}

TEST_CASE("web - a taken port is a clear start error that leaves nothing open", "[web]") {
    Harness first;  // holds a port
    veil::test::TestLoop loop;
    {
        sdk::Bus bus(loop.get());
        sdk::CommandRegistry commands;
        veil::test::TempDir home;
        sdk::Context::Parts parts;
        parts.loop = loop.get();
        parts.bus = &bus;
        parts.commands = &commands;
        parts.plugin_name = "web";
        parts.home_dir = home.path();
        parts.request_stop = [](int) {};
        sdk::Context ctx(std::move(parts));
        ServerOptions o;
        o.listen = parse_listen("127.0.0.1:" + std::to_string(first.port()));
        o.max_upload_bytes = 1024;
        o.data_dir = ctx.data_dir();
        CHECK_THROWS_WITH(WebServer(ctx, o), Catch::Contains("is in use"));
    }
    loop.run_until([&] { return !uv_loop_alive(loop.get()); });
    CHECK(loop.close() == 0);
}

TEST_CASE("web - a deeply nested command is answered bad_input and the page keeps being served", "[web]") {
    Harness h;
    auto p = h.port();
    auto headers = "Cookie: " + h.login() + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    auto frames = h.client([p, headers] {
        WsClient ws(p, headers);
        std::vector<json> out;
        ws.send_text(R"({"id":1,"method":"list_contacts","params":{"x":)" + std::string(30000, '[') +
                     std::string(30000, ']') + "}}");
        out.push_back(json::parse(ws.read_text()));
        ws.send_text(R"({"id":2,"method":"mark_read","params":{"peer":"05"}})");
        out.push_back(json::parse(ws.read_text()));
        return out;
    });
    REQUIRE(frames.size() == 2);
    CHECK(frames[0]["error"]["code"] == "bad_input");
    CHECK(frames[0]["error"]["message"] == "nested deeper than 64");
    CHECK(frames[1]["id"] == 2);
}

TEST_CASE("web - a list reply over 8 MiB reaches the page; events still arrive after it", "[web]") {
    Harness h;
    auto p = h.port();
    auto headers = "Cookie: " + h.login() + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    const std::string peer = "05" + std::string(64, 'b');
    // Peer-controlled content: 700 messages of 16 KiB, about 11 MiB of JSON in one reply.
    auto served = h.bus->serve<sdk::messenger::ListMessages>(
        [peer](const sdk::messenger::ListMessages&, sdk::Responder<sdk::messenger::MessageList> r) {
            sdk::messenger::MessageList l;
            for (int i = 0; i < 700; ++i) {
                sdk::messenger::Message m;
                m.id = std::to_string(i);
                m.peer = peer;
                m.text = std::string(16 * 1024, 'x');
                l.messages.push_back(std::move(m));
            }
            r.reply(std::move(l));
        });
    sdk::Bus* bus = &*h.bus;
    auto frames = h.client([p, headers, bus, peer] {
        WsClient ws(p, headers);
        std::vector<json> out;
        ws.send_text(R"({"id":1,"method":"list_messages","params":{"peer":")" + peer + R"(","limit":1000}})");
        auto big = ws.read_text();
        out.push_back(json::parse(big));
        out.push_back(big.size());
        sdk::messenger::MessageAdded e;
        e.message.id = "late";
        e.message.peer = peer;
        e.message.text = "still here";
        bus->publish(std::move(e));
        out.push_back(json::parse(ws.read_text()));
        return out;
    });
    REQUIRE(frames.size() == 3);
    CHECK(frames[0]["id"] == 1);
    CHECK(frames[0]["result"]["messages"].size() == 700);
    CHECK(frames[1].get<std::size_t>() > 8u * 1024 * 1024);
    CHECK(frames[2]["event"] == "message_added");
    CHECK(frames[2]["data"]["text"] == "still here");
}

namespace {

// Uploads `body` as `name` and returns its upload id.
std::string upload(Harness& h, const std::string& cookie, const std::string& body) {
    auto p = h.port();
    auto req = "POST /api/upload?name=a.txt HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(p) + "\r\n" + cookie +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto r = h.client([p, req] { return http(p, req); });
    REQUIRE(r.status == 200);
    return json::parse(r.body)["upload"].get<std::string>();
}

std::string send_upload(int id, const std::string& upload_id) {
    return R"({"id":)" + std::to_string(id) + R"(,"method":"send_message","params":{"to":"05)" + std::string(64, 'b') +
           R"(","upload":")" + upload_id + R"("}})";
}

}  // namespace

TEST_CASE("web - an upload is taken when its send starts: a second send of it is refused at once", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = h.login();
    auto up = upload(h, "Cookie: " + cookie + "\r\n", "hello");
    std::vector<sdk::Responder<sdk::messenger::Queued>> held;  // the first send is answered later
    int asked = 0;
    auto served = h.bus->serve<sdk::messenger::SendMessage>(
        [&](const sdk::messenger::SendMessage&, sdk::Responder<sdk::messenger::Queued> r) {
            ++asked;
            held.push_back(std::move(r));
        });
    auto headers = "Cookie: " + cookie + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    auto second = h.client([p, headers, up] {
        WsClient ws(p, headers);
        ws.send_text(send_upload(1, up));
        ws.send_text(send_upload(2, up));
        return json::parse(ws.read_text());
    });
    CHECK(second["id"] == 2);
    CHECK(second["error"]["code"] == "bad_input");
    CHECK(asked == 1);
}

TEST_CASE("web - a send of an upload whose directory is gone is answered bad_input; the page stays connected", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = h.login();
    auto up = upload(h, "Cookie: " + cookie + "\r\n", "hello");
    fs::remove_all(h.home.path() / "web" / "uploads" / up);
    auto headers = "Cookie: " + cookie + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    auto frames = h.client([p, headers, up] {
        WsClient ws(p, headers);
        std::vector<json> out;
        ws.send_text(send_upload(1, up));
        out.push_back(json::parse(ws.read_text()));
        ws.send_text(R"({"id":2,"method":"list_contacts"})");
        out.push_back(json::parse(ws.read_text()));
        return out;
    });
    REQUIRE(frames.size() == 2);
    CHECK(frames[0]["error"]["code"] == "bad_input");
    CHECK(frames[1]["id"] == 2);
}

TEST_CASE("web - the upload directory is removed when the sent event overtakes the send's reply", "[web]") {
    Harness h;
    auto p = h.port();
    auto cookie = h.login();
    auto up = upload(h, "Cookie: " + cookie + "\r\n", "hello");
    const auto dir = h.home.path() / "web" / "uploads" / up;
    REQUIRE(fs::exists(dir));
    sdk::Bus* bus = &*h.bus;
    auto served = h.bus->serve<sdk::messenger::SendMessage>(
        [bus](const sdk::messenger::SendMessage& q, sdk::Responder<sdk::messenger::Queued> r) {
            sdk::messenger::Message m;
            m.id = std::string(32, 'e');
            m.peer = q.to;
            m.outgoing = true;
            m.attachment = sdk::messenger::AttachmentInfo{"a.txt", "text/plain", 5, ""};
            m.delivery = sdk::messenger::Delivery::sent;
            bus->publish(sdk::messenger::MessageUpdated{m});  // delivered before the reply below
            m.delivery = sdk::messenger::Delivery::queued;
            r.reply({m});
        });
    auto headers = "Cookie: " + cookie + "\r\nOrigin: http://127.0.0.1:" + std::to_string(p) + "\r\n";
    auto frames = h.client([p, headers, up] {
        WsClient ws(p, headers);
        std::vector<json> out;
        ws.send_text(send_upload(1, up));
        for (int i = 0; i < 2; ++i) out.push_back(json::parse(ws.read_text()));  // the event and the reply
        return out;
    });
    REQUIRE(frames.size() == 2);
    CHECK(frames[0]["event"] == "message_updated");
    CHECK(frames[1]["id"] == 1);
    CHECK(h.loop.run_until([&] { return !fs::exists(dir); }, 2000));
}
