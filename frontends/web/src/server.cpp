// The local chat page's server (see server.hpp). libwebsockets runs on the kernel's libuv loop;
// everything its callbacks touch lives in Core, which outlives the lws context: stop() starts
// lws's asynchronous teardown and a small timer frees Core once lws reports it is done.
#include "server.hpp"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "api.hpp"
#include "assets.hpp"
#include "qr_svg.hpp"
#include "veil/sdk/log.hpp"

namespace veil::web {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kChunkBytes = 16 * 1024;
// A page this far behind on broadcast events is closed (events are not asked for; they pile up).
constexpr std::size_t kMaxWsEventBacklogBytes = 8 * 1024 * 1024;
// Replies the page asked for are queued whole while less than this is already waiting, so one
// list reply of any size within the contract's limits always gets through; a page that asks and
// never reads is closed once this much waits.
constexpr std::size_t kMaxWsQueuedBytes = 64 * 1024 * 1024;
constexpr std::size_t kMaxHeaderBytes = 4096;
constexpr std::size_t kMaxMediaEntries = 20000;
constexpr std::uint64_t kMaxMediaBytes = 64ull * 1024 * 1024;
constexpr std::uint32_t kSendFileTimeoutMs = 200'000;  // above the messenger's 180 s upload limit

std::string random_hex(std::size_t n_bytes) {
    std::vector<unsigned char> b(n_bytes);
    randombytes_buf(b.data(), b.size());
    std::string hex(n_bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), b.data(), b.size());
    hex.pop_back();
    sodium_memzero(b.data(), b.size());
    return hex;
}

// A header's value ("" when absent); nullopt when longer than we accept.
std::optional<std::string> header(lws* wsi, lws_token_indexes h) {
    int len = lws_hdr_total_length(wsi, h);
    if (len <= 0) return std::string();
    if (static_cast<std::size_t>(len) > kMaxHeaderBytes) return std::nullopt;
    std::string v(static_cast<std::size_t>(len) + 1, '\0');
    int n = lws_hdr_copy(wsi, v.data(), static_cast<int>(v.size()), h);
    if (n < 0) return std::nullopt;
    v.resize(static_cast<std::size_t>(n));
    return v;
}

std::optional<std::string> url_arg(lws* wsi, const char* name_eq) {
    char buf[512];
    const char* v = lws_get_urlarg_by_name(wsi, name_eq, buf, sizeof buf);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
}

// True when a listening socket could bind `a` now (as lws will, with SO_REUSEADDR).
bool port_free(const ListenAddress& a) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(a.port);
    bool ok = ::inet_pton(AF_INET, a.ip.c_str(), &sa.sin_addr) == 1 &&
              ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd, 1) == 0;
    ::close(fd);
    return ok;
}

bool is_inline_image(std::string_view mime) {
    return mime == "image/jpeg" || mime == "image/png" || mime == "image/gif" || mime == "image/webp";
}

// Per-connection memory lws allocates (zeroed) for each wsi: only our id for it.
struct Pss {
    std::uint64_t id;
};

// One HTTP response, written in chunks when the connection is writeable.
struct Response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string csp;  // "" = the page's policy
};

struct HttpTxn {
    lws* wsi = nullptr;
    std::string path;
    bool post = false;
    bool rejected = false;  // answered before the body; the rest of it is ignored
    std::string upload_name;
    std::uint64_t expected_bytes = 0;
    std::string body_in;
    std::optional<Response> response;
    bool headers_sent = false;
    std::size_t sent = 0;
};

struct WsFrame {
    std::string text;
    bool event = false;  // a broadcast, not a reply
};

struct WsConn {
    lws* wsi = nullptr;
    std::string rx;
    std::deque<WsFrame> tx;
    std::size_t tx_bytes = 0;
    std::size_t event_bytes = 0;  // the part of tx_bytes that is broadcast events
    bool closing = false;
};

Response text_response(unsigned status, std::string text) {
    Response r;
    r.status = status;
    r.body = std::move(text) + "\n";
    return r;
}

Response json_response(unsigned status, const json& j) {
    Response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

}  // namespace

struct Core final : std::enable_shared_from_this<Core> {
    sdk::Context* ctx = nullptr;
    std::shared_ptr<spdlog::logger> log;
    ServerOptions options;
    std::unique_ptr<Gate> gate;
    lws_context* lws_ctx = nullptr;  // lws writes nullptr here once teardown is complete
    bool stopping = false;
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, HttpTxn> http;
    std::map<std::uint64_t, WsConn> ws;
    std::map<std::string, fs::path> uploads;              // upload id -> its private directory
    std::map<std::string, std::string> upload_of_message;  // message id -> upload id
    std::set<std::string> uploads_taken;                   // upload ids handed to a send, not failed
    std::deque<std::string> finished_unclaimed;            // sent/failed before their send's reply
    std::map<std::string, msg::AttachmentInfo> media;     // message id -> its file, as last seen
    std::vector<sdk::Subscription> subscriptions;

    int on_event(lws* wsi, lws_callback_reasons reason, Pss* pss, void* in, std::size_t len);

    // HTTP
    int on_http(lws* wsi, Pss* pss, std::string path);
    int on_http_body(Pss* pss, const char* data, std::size_t len);
    int on_http_body_done(Pss* pss);
    int on_http_writeable(lws* wsi, Pss* pss);
    void respond(std::uint64_t txn_id, Response r);
    bool write_headers(lws* wsi, const Response& r);
    int on_confirm_upgrade(lws* wsi, Pss* pss);
    void serve_qr(std::uint64_t txn_id);
    void serve_media(std::uint64_t txn_id, const std::string& message_id);
    void finish_upload(std::uint64_t txn_id);

    // WebSocket
    void queue(std::uint64_t conn_id, std::string frame, bool event = false);
    void broadcast(const std::string& frame);
    void on_command(std::uint64_t conn_id, std::string_view text);
    template <class R>
    void forward(std::uint64_t conn_id, json id, R request);
    void remember(const msg::Message& m);
    void forget_upload_of(const msg::Message& m);
    void drop_upload(const std::string& upload_id);
    void send_message(std::uint64_t conn_id, const json& id, const SendCommand& c);

    void subscribe_events();
};

namespace {

int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
    auto* core = static_cast<Core*>(lws_context_user(lws_get_context(wsi)));
    if (core == nullptr || core->stopping) return lws_callback_http_dummy(wsi, reason, user, in, len);
    try {
        return core->on_event(wsi, reason, static_cast<Pss*>(user), in, len);
    } catch (const std::exception& e) {
        core->log->error("web request failed: {}", e.what());
        return -1;
    }
}

// lws's own warnings and errors go to our log (lws is process-wide, so one sink).
void lws_log_sink(int level, const char* line) {
    std::string_view l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
    auto log = sdk::log::get("web");
    if (level & LLL_ERR) {
        log->error("lws: {}", l);
    } else {
        log->debug("lws: {}", l);
    }
}

const lws_protocols kProtocols[] = {
    {"http", lws_callback, sizeof(Pss), 0, 0, nullptr, 0},
    {"veil", lws_callback, sizeof(Pss), 64 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

int Core::on_event(lws* wsi, lws_callback_reasons reason, Pss* pss, void* in, std::size_t len) {
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return on_http(wsi, pss, std::string(static_cast<const char*>(in), len));
        case LWS_CALLBACK_HTTP_BODY:
            return on_http_body(pss, static_cast<const char*>(in), len);
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return on_http_body_done(pss);
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return on_http_writeable(wsi, pss);
        case LWS_CALLBACK_CLOSED_HTTP:
            if (pss != nullptr) http.erase(pss->id);
            return 0;
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return on_confirm_upgrade(wsi, pss);
        case LWS_CALLBACK_ESTABLISHED: {
            pss->id = next_id++;
            ws[pss->id].wsi = wsi;
            return 0;
        }
        case LWS_CALLBACK_RECEIVE: {
            auto it = ws.find(pss->id);
            if (it == ws.end()) return -1;
            auto& c = it->second;
            if (lws_frame_is_binary(wsi)) {
                queue(pss->id, error_frame(nullptr, "bad_input", "commands are JSON text frames"));
                return 0;
            }
            if (c.rx.size() + len > kMaxCommandBytes) {
                static const char reason_text[] = "command too large";
                lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                                 reinterpret_cast<unsigned char*>(const_cast<char*>(reason_text)),
                                 sizeof reason_text - 1);
                return -1;
            }
            c.rx.append(static_cast<const char*>(in), len);
            if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
                std::string text = std::move(c.rx);
                c.rx.clear();
                on_command(pss->id, text);
            }
            return 0;
        }
        case LWS_CALLBACK_SERVER_WRITEABLE: {
            auto it = ws.find(pss->id);
            if (it == ws.end()) return -1;
            auto& c = it->second;
            if (c.closing) return -1;
            if (c.tx.empty()) return 0;
            std::string frame = std::move(c.tx.front().text);
            if (c.tx.front().event) c.event_bytes -= frame.size();
            c.tx.pop_front();
            c.tx_bytes -= frame.size();
            std::vector<unsigned char> buf(LWS_PRE + frame.size());
            std::memcpy(buf.data() + LWS_PRE, frame.data(), frame.size());
            if (lws_write(wsi, buf.data() + LWS_PRE, frame.size(), LWS_WRITE_TEXT) < static_cast<int>(frame.size())) {
                return -1;
            }
            if (!c.tx.empty()) lws_callback_on_writable(wsi);
            return 0;
        }
        case LWS_CALLBACK_CLOSED:
            if (pss != nullptr) ws.erase(pss->id);
            return 0;
        default:
            return lws_callback_http_dummy(wsi, reason, pss, in, len);
    }
}

// ---- HTTP -----------------------------------------------------------------------------------

int Core::on_http(lws* wsi, Pss* pss, std::string path) {
    if (pss->id == 0) pss->id = next_id++;
    const auto id = pss->id;
    auto& t = http[id];
    t = HttpTxn{};
    t.wsi = wsi;
    t.path = path;
    t.post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;

    auto host = header(wsi, WSI_TOKEN_HOST);
    auto origin = header(wsi, WSI_TOKEN_ORIGIN);
    auto cookie = header(wsi, WSI_TOKEN_HTTP_COOKIE);
    auto reject = [&](unsigned status, std::string text) {
        t.rejected = true;
        respond(id, text_response(status, std::move(text)));
        return 0;
    };
    if (!host || !origin || !cookie) return reject(431, "request header too large");
    if (!gate->host_ok(*host)) return reject(403, "forbidden: this server answers only to 127.0.0.1 or localhost");
    if (!gate->origin_ok(*origin)) return reject(403, "forbidden: foreign origin");
    if (!get && !t.post) return reject(405, "method not allowed");

    if (path == "/login" && get) {
        auto token = url_arg(wsi, "token=");
        if (!token || !gate->token_ok(*token)) {
            return reject(401, "unauthorized: open the URL that 'veil daemon' printed (also in HOME/web/url)");
        }
        Response r;
        r.status = 303;
        r.headers = {{"location:", "/"}, {"set-cookie:", gate->set_cookie()}};
        respond(id, std::move(r));
        return 0;
    }
    if (!cookie || !gate->cookie_ok(*cookie)) {
        return reject(401, "unauthorized: open the URL that 'veil daemon' printed (also in HOME/web/url)");
    }

    if (t.post) {
        if (path != "/api/upload") return reject(404, "not found");
        auto length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
        if (!length || length->empty()) return reject(411, "length required");
        std::uint64_t n = 0;
        try {
            n = std::stoull(*length);
        } catch (const std::exception&) {
            return reject(400, "bad content-length");
        }
        if (n == 0) return reject(400, "an empty file");
        if (n > options.max_upload_bytes) {
            return reject(413, "file too large (limit " + std::to_string(options.max_upload_bytes) + " bytes)");
        }
        auto name = url_arg(wsi, "name=");
        t.upload_name = safe_file_name(name ? *name : "file");
        t.expected_bytes = n;
        t.body_in.reserve(static_cast<std::size_t>(n));
        return 0;  // the body follows
    }

    if (path == "/api/qr.svg") {
        serve_qr(id);
        return 0;
    }
    if (path == "/api/media") {
        auto mid = url_arg(wsi, "id=");
        if (!mid) return reject(400, "missing id");
        serve_media(id, *mid);
        return 0;
    }
    if (const Asset* a = find_asset(path)) {
        Response r;
        r.content_type = std::string(a->content_type);
        r.body.assign(reinterpret_cast<const char*>(a->data), a->size);
        respond(id, std::move(r));
        return 0;
    }
    return reject(404, "not found");
}

int Core::on_http_body(Pss* pss, const char* data, std::size_t len) {
    auto it = http.find(pss->id);
    if (it == http.end()) return -1;
    auto& t = it->second;
    if (t.rejected) return 0;
    if (t.body_in.size() + len > t.expected_bytes) {
        t.rejected = true;
        respond(pss->id, text_response(400, "body longer than content-length"));
        return 0;
    }
    t.body_in.append(data, len);
    return 0;
}

int Core::on_http_body_done(Pss* pss) {
    auto it = http.find(pss->id);
    if (it == http.end()) return -1;
    if (it->second.rejected) return 0;
    if (it->second.body_in.size() != it->second.expected_bytes) {
        it->second.rejected = true;
        respond(pss->id, text_response(400, "body shorter than content-length"));
        return 0;
    }
    finish_upload(pss->id);
    return 0;
}

void Core::respond(std::uint64_t txn_id, Response r) {
    auto it = http.find(txn_id);
    if (it == http.end()) return;  // the connection closed meanwhile
    it->second.response = std::move(r);
    lws_callback_on_writable(it->second.wsi);
}

bool Core::write_headers(lws* wsi, const Response& r) {
    std::vector<unsigned char> buf(LWS_PRE + 8192);
    unsigned char* start = buf.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buf.data() + buf.size() - 1;
    if (lws_add_http_common_headers(wsi, r.status, r.content_type.c_str(), r.body.size(), &p, end) != 0) return false;
    auto add = [&](const std::string& name, const std::string& value) {
        return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.c_str()),
                                           reinterpret_cast<const unsigned char*>(value.data()),
                                           static_cast<int>(value.size()), &p, end) == 0;
    };
    const std::string& csp = r.csp.empty() ? gate->content_security_policy() : r.csp;
    bool ok = add("content-security-policy:", csp) && add("x-content-type-options:", "nosniff") &&
              add("referrer-policy:", "no-referrer") && add("cache-control:", "no-store") &&
              add("x-frame-options:", "DENY") && add("cross-origin-opener-policy:", "same-origin") &&
              add("cross-origin-resource-policy:", "same-origin");
    for (const auto& [name, value] : r.headers) ok = ok && add(name, value);
    return ok && lws_finalize_write_http_header(wsi, start, &p, end) == 0;
}

int Core::on_http_writeable(lws* wsi, Pss* pss) {
    auto it = http.find(pss->id);
    if (it == http.end() || !it->second.response) return 0;
    auto& t = it->second;
    const Response& r = *t.response;
    if (!t.headers_sent) {
        if (!write_headers(wsi, r)) return -1;
        t.headers_sent = true;
        if (!r.body.empty()) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        std::size_t n = std::min(kChunkBytes, r.body.size() - t.sent);
        bool last = t.sent + n == r.body.size();
        std::vector<unsigned char> buf(LWS_PRE + n);
        std::memcpy(buf.data() + LWS_PRE, r.body.data() + t.sent, n);
        if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < static_cast<int>(n)) {
            return -1;
        }
        t.sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    // Done. A request answered before its body was read cannot be reused: close it.
    bool close = t.rejected && t.post;
    http.erase(it);
    if (close) return -1;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

int Core::on_confirm_upgrade(lws* wsi, Pss* pss) {
    if (pss != nullptr && pss->id != 0) http.erase(pss->id);
    auto host = header(wsi, WSI_TOKEN_HOST);
    auto origin = header(wsi, WSI_TOKEN_ORIGIN);
    auto cookie = header(wsi, WSI_TOKEN_HTTP_COOKIE);
    unsigned status = 0;
    const char* why = "";
    if (!host || !origin || !cookie) {
        status = 431, why = "request header too large";
    } else if (!gate->host_ok(*host)) {
        status = 403, why = "forbidden: bad host";
    } else if (!gate->origin_ok(*origin)) {
        status = 403, why = "forbidden: foreign origin";
    } else if (!gate->cookie_ok(*cookie)) {
        status = 401, why = "unauthorized";
    } else {
        char uri[64];
        int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        if (n < 0 || std::string_view(uri, static_cast<std::size_t>(n)) != "/ws") status = 404, why = "not found";
    }
    if (status == 0) return 0;
    Response r = text_response(status, why);
    if (!write_headers(wsi, r)) return -1;
    std::vector<unsigned char> buf(LWS_PRE + r.body.size());
    std::memcpy(buf.data() + LWS_PRE, r.body.data(), r.body.size());
    lws_write(wsi, buf.data() + LWS_PRE, r.body.size(), LWS_WRITE_HTTP_FINAL);
    return 1;
}

void Core::serve_qr(std::uint64_t txn_id) {
    std::weak_ptr<Core> weak = weak_from_this();
    bool queued = ctx->bus().request<msg::GetProfile>(
        msg::GetProfile{}, options.request_timeout_ms, [weak, txn_id](sdk::Result<msg::Profile> r) {
            auto self = weak.lock();
            if (!self || self->stopping) return;
            if (!r.ok()) {
                self->respond(txn_id, text_response(503, "no profile: " + r.error().describe()));
                return;
            }
            Response resp;
            resp.content_type = "image/svg+xml";
            resp.body = qr_svg(r.value().id);
            self->respond(txn_id, std::move(resp));
        });
    if (!queued) respond(txn_id, text_response(503, "busy"));
}

void Core::serve_media(std::uint64_t txn_id, const std::string& message_id) {
    auto it = media.find(message_id);
    if (it == media.end() || it->second.saved_path.empty()) {
        respond(txn_id, text_response(404, "no such file"));
        return;
    }
    // The messenger keeps received files encrypted; it opens one for us (never onto the disk).
    std::weak_ptr<Core> weak = weak_from_this();
    bool queued = ctx->bus().request<msg::ReadAttachment>(
        msg::ReadAttachment{message_id}, options.request_timeout_ms,
        [weak, txn_id](sdk::Result<msg::AttachmentContent> res) {
            auto self = weak.lock();
            if (!self || self->stopping) return;
            if (!res || res.value().bytes.size() > kMaxMediaBytes) {
                self->respond(txn_id, text_response(404, "no such file"));
                return;
            }
            auto& content = res.value();
            Response r;
            r.body.assign(content.bytes.begin(), content.bytes.end());
            sodium_memzero(content.bytes.data(), content.bytes.size());
            r.csp = "default-src 'none'; sandbox";
            if (is_inline_image(content.mime_type)) {
                r.content_type = content.mime_type;
            } else {
                r.content_type = "application/octet-stream";
                r.headers.emplace_back("content-disposition:",
                                       "attachment; filename=\"" + safe_file_name(content.file_name) + "\"");
            }
            self->respond(txn_id, std::move(r));
        });
    if (!queued) respond(txn_id, text_response(503, "busy"));
}

void Core::finish_upload(std::uint64_t txn_id) {
    auto& t = http.at(txn_id);
    auto upload_id = random_hex(16);
    auto dir = options.data_dir / "uploads" / upload_id;
    auto path = dir / t.upload_name;
    auto body = std::make_shared<std::string>(std::move(t.body_in));
    t.body_in.clear();
    std::weak_ptr<Core> weak = weak_from_this();
    ctx->run_blocking(
        [dir, path, body] {
            fs::create_directories(dir.parent_path());
            fs::permissions(dir.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
            fs::create_directory(dir);
            fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
            std::FILE* f = std::fopen(path.c_str(), "wbx");
            if (f == nullptr) throw std::runtime_error("cannot create the upload file");
            fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
            bool ok = std::fwrite(body->data(), 1, body->size(), f) == body->size();
            ok = (std::fclose(f) == 0) && ok;
            if (!ok) throw std::runtime_error("cannot write the upload file");
        },
        [weak, txn_id, upload_id, dir, name = t.upload_name, size = body->size()](std::exception_ptr error) {
            auto self = weak.lock();
            if (!self || self->stopping) return;
            if (error) {
                std::error_code ec;
                fs::remove_all(dir, ec);
                self->log->warn("an upload could not be stored");
                self->respond(txn_id, text_response(500, "could not store the upload"));
                return;
            }
            self->uploads[upload_id] = dir;
            self->respond(txn_id, json_response(200, json{{"upload", upload_id}, {"name", name}, {"size_bytes", size}}));
        });
}

// ---- WebSocket ------------------------------------------------------------------------------

void Core::queue(std::uint64_t conn_id, std::string frame, bool event) {
    auto it = ws.find(conn_id);
    if (it == ws.end() || it->second.closing) return;
    auto& c = it->second;
    const bool behind = event ? c.event_bytes + frame.size() > kMaxWsEventBacklogBytes : c.tx_bytes >= kMaxWsQueuedBytes;
    if (behind) {
        log->warn("a page fell too far behind; closing its connection");
        c.closing = true;
        c.tx.clear();
        c.tx_bytes = 0;
        c.event_bytes = 0;
    } else {
        c.tx_bytes += frame.size();
        if (event) c.event_bytes += frame.size();
        c.tx.push_back(WsFrame{std::move(frame), event});
    }
    lws_callback_on_writable(c.wsi);
}

void Core::broadcast(const std::string& frame) {
    for (auto& [id, c] : ws) queue(id, frame, /*event=*/true);
}

void Core::remember(const msg::Message& m) {
    if (!m.attachment) return;
    if (media.size() >= kMaxMediaEntries && media.find(m.id) == media.end()) media.erase(media.begin());
    media[m.id] = *m.attachment;
}

// At most this many sent/failed outgoing messages are remembered until their send's reply.
constexpr std::size_t kMaxFinishedUnclaimed = 256;

void Core::forget_upload_of(const msg::Message& m) {
    if (m.delivery != msg::Delivery::sent && m.delivery != msg::Delivery::failed) return;
    auto it = upload_of_message.find(m.id);
    if (it == upload_of_message.end()) {
        // The event can overtake the reply to send_message: keep the id for that reply.
        if (!m.outgoing || !m.attachment) return;
        if (finished_unclaimed.size() >= kMaxFinishedUnclaimed) finished_unclaimed.pop_front();
        finished_unclaimed.push_back(m.id);
        return;
    }
    drop_upload(it->second);
    upload_of_message.erase(it);
}

void Core::drop_upload(const std::string& upload_id) {
    auto up = uploads.find(upload_id);
    if (up != uploads.end()) {
        ctx->run_blocking([dir = up->second] { fs::remove_all(dir); }, [](std::exception_ptr) {});
        uploads.erase(up);
    }
    uploads_taken.erase(upload_id);
}

template <class R>
void Core::forward(std::uint64_t conn_id, json id, R request) {
    std::weak_ptr<Core> weak = weak_from_this();
    bool queued = ctx->bus().request<R>(
        std::move(request), options.request_timeout_ms, [weak, conn_id, id](sdk::Result<typename R::Reply> r) {
            auto self = weak.lock();
            if (!self || self->stopping) return;
            if (!r.ok()) {
                self->queue(conn_id, error_frame(id, sdk::to_string(r.error().code), r.error().message));
                return;
            }
            if constexpr (std::is_same_v<typename R::Reply, msg::MessageList>) {
                for (const auto& m : r.value().messages) self->remember(m);
            }
            self->queue(conn_id, result_frame(id, reply_json(r.value())));
        });
    if (!queued) queue(conn_id, error_frame(id, "queue_full", "the client is busy; try again"));
}

void Core::on_command(std::uint64_t conn_id, std::string_view text) {
    auto parsed = parse_command(text);
    if (auto* bad = std::get_if<CommandError>(&parsed)) {
        queue(conn_id, error_frame(bad->id, "bad_input", bad->message));
        return;
    }
    auto& cmd = std::get<ParsedCommand>(parsed);
    std::visit(
        [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, SendCommand>) {
                send_message(conn_id, cmd.id, c);
            } else {
                forward<T>(conn_id, cmd.id, std::move(c));
            }
        },
        cmd.command);
}

void Core::send_message(std::uint64_t conn_id, const json& id, const SendCommand& c) {
    msg::SendMessage send{c.to, c.text, "", c.keep_metadata};
    if (!c.upload.empty()) {
        auto up = uploads.find(c.upload);
        if (up == uploads.end() || uploads_taken.contains(c.upload)) {
            return queue(conn_id, error_frame(id, "bad_input", "unknown or already sent upload"));
        }
        std::error_code ec;  // the directory may be gone (removed by hand): an answer, not a throw
        for (fs::directory_iterator it(up->second, ec), end; !ec && it != end; it.increment(ec)) {
            send.file_path = it->path().string();
        }
        if (ec || send.file_path.empty()) {
            uploads.erase(up);
            return queue(conn_id, error_frame(id, "bad_input", "the uploaded file is gone; upload it again"));
        }
        uploads_taken.insert(c.upload);  // before sending: a second send of it is refused at once
        // The upload is stored under the page's name for it; it travels only if asked.
        if (c.keep_name) send.file_name = fs::path(send.file_path).filename().string();
    }
    std::weak_ptr<Core> weak = weak_from_this();
    auto upload = c.upload;
    // With a file the reply comes after the daemon uploaded it: allow that long.
    auto timeout_ms = send.file_path.empty() ? options.request_timeout_ms : kSendFileTimeoutMs;
    bool queued = ctx->bus().request<msg::SendMessage>(
        std::move(send), timeout_ms, [weak, conn_id, id, upload](sdk::Result<msg::Queued> r) {
            auto self = weak.lock();
            if (!self || self->stopping) return;
            if (!r.ok()) {
                self->uploads_taken.erase(upload);  // not sent: the page may try again
                self->queue(conn_id, error_frame(id, sdk::to_string(r.error().code), r.error().message));
                return;
            }
            const auto& m = r.value().message;
            if (!upload.empty()) {
                auto early = std::find(self->finished_unclaimed.begin(), self->finished_unclaimed.end(), m.id);
                if (early != self->finished_unclaimed.end()) {
                    self->finished_unclaimed.erase(early);
                    self->drop_upload(upload);
                } else {
                    self->upload_of_message[m.id] = upload;
                }
            }
            self->remember(m);
            self->forget_upload_of(m);
            self->queue(conn_id, result_frame(id, reply_json(r.value())));
        });
    if (!queued) {
        uploads_taken.erase(upload);
        queue(conn_id, error_frame(id, "queue_full", "the client is busy; try again"));
    }
}

void Core::subscribe_events() {
    auto& bus = ctx->bus();
    subscriptions.push_back(bus.subscribe<msg::MessageAdded>([this](const msg::MessageAdded& e) {
        remember(e.message);
        broadcast(event_frame("message_added", page_json(e.message)));
    }));
    subscriptions.push_back(bus.subscribe<msg::MessageUpdated>([this](const msg::MessageUpdated& e) {
        remember(e.message);
        forget_upload_of(e.message);
        broadcast(event_frame("message_updated", page_json(e.message)));
    }));
    subscriptions.push_back(bus.subscribe<msg::ConversationUpdated>([this](const msg::ConversationUpdated& e) {
        broadcast(event_frame("conversation_updated", to_json(e.conversation)));
    }));
    subscriptions.push_back(
        bus.subscribe<sdk::attachment::TransferProgress>([this](const sdk::attachment::TransferProgress& e) {
            broadcast(event_frame("transfer_progress", to_json(e)));
        }));
}

// ---- WebServer ------------------------------------------------------------------------------

WebServer::WebServer(sdk::Context& ctx, ServerOptions options) : core_(std::make_shared<Core>()) {
    auto& c = *core_;
    c.ctx = &ctx;
    c.log = ctx.logger();
    c.options = std::move(options);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_sink);

    // lws 4.1 cannot back out of a failed bind on a foreign libuv loop (it leaves half-closed
    // handles behind), so a taken port is found out here first, with a clear error.
    if (c.options.listen.port != 0 && !port_free(c.options.listen)) {
        throw std::runtime_error("web: " + c.options.listen.ip + ":" + std::to_string(c.options.listen.port) +
                                 " is in use");
    }
    void* loops[1] = {ctx.loop()};
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.foreign_loops = loops;
    info.port = c.options.listen.port;
    info.iface = c.options.listen.ip.c_str();
    info.protocols = kProtocols;
    info.user = core_.get();
    info.pcontext = &c.lws_ctx;
    info.max_http_header_data = 8192;
    info.max_http_header_pool = 32;
    info.timeout_secs = 30;
    info.keepalive_timeout = 30;
    info.server_string = "veil";
    info.pt_serv_buf_size = 32 * 1024;
    c.lws_ctx = lws_create_context(&info);
    if (c.lws_ctx == nullptr) {
        throw std::runtime_error("web: cannot listen on " + c.options.listen.ip + ":" +
                                 std::to_string(c.options.listen.port) + " (port in use, or lws's libuv support missing)");
    }
    lws_vhost* vh = lws_get_vhost_by_name(c.lws_ctx, "default");
    int port = vh != nullptr ? lws_get_vhost_listen_port(vh) : -1;
    if (port <= 0) {
        stop();
        throw std::runtime_error("web: the listener did not start");
    }
    c.gate = std::make_unique<Gate>(c.options.listen.ip, static_cast<std::uint16_t>(port), random_hex(32), random_hex(32));
    c.subscribe_events();
}

WebServer::~WebServer() { stop(); }

std::uint16_t WebServer::port() const { return core_ ? core_->gate->port() : 0; }

std::string WebServer::login_url() const { return core_ ? core_->gate->login_url() : std::string(); }

void WebServer::stop() {
    if (!core_) return;
    auto core = std::move(core_);
    core->stopping = true;
    core->subscriptions.clear();
    core->http.clear();
    core->ws.clear();
    if (core->lws_ctx == nullptr) return;
    lws_context_destroy(core->lws_ctx);
    if (core->lws_ctx == nullptr) return;  // finished at once
    // lws (4.1) closes its libuv handles asynchronously and may call back until then, so Core
    // stays alive: once no handle of the loop is still closing, lws_context_destroy() is called
    // again to finish, and lws reports completion by clearing pcontext (lws_ctx).
    struct Reaper {
        uv_timer_t timer;
        std::shared_ptr<Core> core;
        int calls = 0;
    };
    auto* reaper = new Reaper{{}, std::move(core), 0};
    uv_timer_init(reaper->core->ctx->loop(), &reaper->timer);
    reaper->timer.data = reaper;
    uv_timer_start(
        &reaper->timer,
        [](uv_timer_t* t) {
            auto* r = static_cast<Reaper*>(t->data);
            if (r->core->lws_ctx != nullptr) {
                bool closing = false;
                uv_walk(t->loop, [](uv_handle_t* h, void* arg) {
                    if (uv_is_closing(h)) *static_cast<bool*>(arg) = true;
                }, &closing);
                if (closing) return;
                if (r->calls++ < 4) lws_context_destroy(r->core->lws_ctx);
                if (r->core->lws_ctx != nullptr && r->calls < 4) return;
                if (r->core->lws_ctx != nullptr) r->core->log->error("web: lws did not finish its teardown");
            }
            uv_timer_stop(t);
            uv_close(reinterpret_cast<uv_handle_t*>(t),
                     [](uv_handle_t* h) { delete static_cast<Reaper*>(h->data); });
        },
        5, 5);
}

}  // namespace veil::web
