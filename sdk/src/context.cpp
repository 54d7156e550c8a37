#include "veil/sdk/context.hpp"
#include "veil/sdk/files.hpp"

#include <map>
#include <sys/stat.h>

#include "veil/sdk/log.hpp"
#include "veil/sdk/timer.hpp"

namespace veil::sdk {

struct Context::Impl {
    Parts parts;
    std::shared_ptr<spdlog::logger> logger;
    std::filesystem::path data_dir;
    std::vector<Subscription> subscriptions;
    std::map<TimerId, std::unique_ptr<Timer>> timers;
    TimerId next_timer = 1;
    std::vector<std::string> commands;
    // Worker completions check this token; it dies with the Context.
    std::shared_ptr<int> alive = std::make_shared<int>(0);
};

Context::Context(Parts parts) : impl_(std::make_unique<Impl>()) {
    impl_->logger = log::get(parts.plugin_name);
    impl_->parts = std::move(parts);
}

Context::~Context() {
    for (const auto& name : impl_->commands) impl_->parts.commands->remove(name);
    impl_->subscriptions.clear();
    impl_->timers.clear();
}

uv_loop_t* Context::loop() const { return impl_->parts.loop; }
spdlog::logger& Context::log() const { return *impl_->logger; }
std::shared_ptr<spdlog::logger> Context::logger() const { return impl_->logger; }
const Config& Context::config() const { return impl_->parts.config; }
Bus& Context::bus() const { return *impl_->parts.bus; }
const std::string& Context::plugin_name() const { return impl_->parts.plugin_name; }

void Context::report_throw(std::string_view what, std::string_view topic, std::string_view message) const {
    log::get("kernel")->error("plugin '{}': {} for '{}' threw: {}", impl_->parts.plugin_name, what, topic, message);
}
const std::filesystem::path& Context::home_dir() const { return impl_->parts.home_dir; }

const std::filesystem::path& Context::data_dir() {
    if (impl_->data_dir.empty()) {
        auto dir = impl_->parts.home_dir / impl_->parts.plugin_name;
        make_private_dirs(dir);  // HOME too, when this makes it
        impl_->data_dir = dir;
    }
    return impl_->data_dir;
}

void Context::keep(Subscription subscription) { impl_->subscriptions.push_back(std::move(subscription)); }

TimerId Context::set_timeout(std::uint64_t delay_ms, std::function<void()> fn) {
    TimerId id = impl_->next_timer++;
    auto timer = std::make_unique<Timer>(impl_->parts.loop);
    // Run, then forget the timer (it may not be destroyed inside its own callback safely
    // before fn returns, so erase after).
    timer->start(delay_ms, 0, [this, id, fn = std::move(fn)] {
        auto keep = std::move(impl_->timers[id]);
        impl_->timers.erase(id);
        fn();
    });
    impl_->timers.emplace(id, std::move(timer));
    return id;
}

TimerId Context::set_interval(std::uint64_t period_ms, std::function<void()> fn) {
    TimerId id = impl_->next_timer++;
    auto timer = std::make_unique<Timer>(impl_->parts.loop);
    timer->start(period_ms, period_ms, std::move(fn));
    impl_->timers.emplace(id, std::move(timer));
    return id;
}

void Context::cancel_timer(TimerId id) { impl_->timers.erase(id); }

namespace {
struct Work {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void(std::exception_ptr)> done;
    std::exception_ptr error;
    std::weak_ptr<int> alive;
    std::shared_ptr<spdlog::logger> logger;
};
}  // namespace

void Context::run_blocking(std::function<void()> work, std::function<void(std::exception_ptr)> done) {
    auto* w = new Work;
    w->req.data = w;
    w->work = std::move(work);
    w->done = std::move(done);
    w->alive = impl_->alive;
    w->logger = impl_->logger;
    int rc = uv_queue_work(
        impl_->parts.loop, &w->req,
        [](uv_work_t* r) {
            auto* job = static_cast<Work*>(r->data);
            try {
                job->work();
            } catch (...) {
                job->error = std::current_exception();
            }
        },
        [](uv_work_t* r, int) {
            std::unique_ptr<Work> job(static_cast<Work*>(r->data));
            if (job->alive.expired() || !job->done) return;
            try {
                job->done(job->error);
            } catch (const std::exception& e) {
                job->logger->error("worker completion threw: {}", e.what());
            } catch (...) {
                job->logger->error("worker completion threw a non-standard exception");
            }
        });
    if (rc != 0) {
        delete w;
        throw std::runtime_error(std::string("uv_queue_work: ") + uv_strerror(rc));
    }
}

void Context::add_command(Command command) {
    std::string name = command.name;
    impl_->parts.commands->add(std::move(command), impl_->parts.plugin_name);
    impl_->commands.push_back(std::move(name));
}

CommandRegistry& Context::commands() const { return *impl_->parts.commands; }

void Context::request_stop(int exit_code) {
    if (impl_->parts.request_stop) impl_->parts.request_stop(exit_code);
}

}  // namespace veil::sdk
