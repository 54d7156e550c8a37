#include "veil/sdk/commands.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace veil::sdk {

struct CommandCall::State {
    std::vector<std::string> args;
    Sinks sinks;
    bool finished = false;
    ~State() {
        // Every copy dropped without finish(): report instead of hanging the process.
        if (!finished && sinks.finished) {
            if (sinks.err) sinks.err("veil: internal error: command ended without a result\n");
            sinks.finished(exit_code::internal);
        }
    }
};

CommandCall::CommandCall(std::vector<std::string> args, Sinks sinks)
    : state_(std::make_shared<State>()) {
    state_->args = std::move(args);
    state_->sinks = std::move(sinks);
}

const std::vector<std::string>& CommandCall::args() const { return state_->args; }

void CommandCall::out(std::string_view text) const {
    if (state_->sinks.out) state_->sinks.out(text);
}

void CommandCall::err(std::string_view text) const {
    if (state_->sinks.err) state_->sinks.err(text);
}

void CommandCall::finish(int code) const {
    if (state_->finished) return;
    state_->finished = true;
    if (state_->sinks.finished) state_->sinks.finished(code);
}

void CommandCall::fail(std::string_view message, int code) const {
    err(std::string(message) + "\n");
    finish(code);
}

bool CommandCall::finished() const { return state_->finished; }

struct CommandRegistry::Impl {
    struct Item {
        Command command;
        std::string owner;
    };
    std::map<std::string, Item, std::less<>> items;
    std::optional<std::vector<std::string>> invocation;
};

CommandRegistry::CommandRegistry() : impl_(std::make_unique<Impl>()) {}
CommandRegistry::~CommandRegistry() = default;

void CommandRegistry::add(Command command, std::string owner) {
    auto it = impl_->items.find(command.name);
    if (it != impl_->items.end()) {
        throw std::invalid_argument("command '" + command.name + "' is already registered by " +
                                    it->second.owner);
    }
    if (command.name.empty() || !command.run) throw std::invalid_argument("command needs a name and a handler");
    std::string name = command.name;
    impl_->items.emplace(std::move(name), Impl::Item{std::move(command), std::move(owner)});
}

void CommandRegistry::remove(std::string_view name) {
    auto it = impl_->items.find(name);
    if (it != impl_->items.end()) impl_->items.erase(it);
}

const Command* CommandRegistry::find(std::string_view name) const {
    auto it = impl_->items.find(name);
    return it == impl_->items.end() ? nullptr : &it->second.command;
}

std::vector<CommandRegistry::Entry> CommandRegistry::list() const {
    std::vector<Entry> out;
    for (const auto& [name, item] : impl_->items) {
        out.push_back({name, item.command.summary, item.command.usage, item.owner});
    }
    return out;
}

const std::optional<std::vector<std::string>>& CommandRegistry::invocation() const { return impl_->invocation; }

void CommandRegistry::set_invocation(std::optional<std::vector<std::string>> argv) {
    impl_->invocation = std::move(argv);
}

}  // namespace veil::sdk
