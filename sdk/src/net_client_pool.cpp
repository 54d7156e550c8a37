// A bounded map of framed TCP clients by address.
#include <deque>
#include <map>

#include "veil/sdk/net.hpp"

namespace veil::sdk::net {

struct ClientPool::Impl {
    uv_loop_t* loop;
    ClientOptions options;
    std::size_t max_clients;
    std::map<std::string, std::unique_ptr<Client>, std::less<>> clients;
    std::deque<std::string> order;  // creation order, for eviction
};

ClientPool::ClientPool(uv_loop_t* loop, ClientOptions options, std::size_t max_clients)
    : impl_(std::make_unique<Impl>(Impl{loop, options, std::max<std::size_t>(max_clients, 1), {}, {}})) {}

ClientPool::~ClientPool() = default;

Result<Client*> ClientPool::get(std::string_view address) {
    if (auto it = impl_->clients.find(address); it != impl_->clients.end()) return it->second.get();
    auto ep = parse_endpoint(address);
    if (!ep) return ep.error();
    while (impl_->clients.size() >= impl_->max_clients && !impl_->order.empty()) {
        auto victim = impl_->clients.find(impl_->order.front());
        impl_->order.pop_front();
        if (victim == impl_->clients.end()) continue;
        auto client = std::move(victim->second);
        impl_->clients.erase(victim);
        client->close();
    }
    std::string key(address);
    impl_->order.push_back(key);
    auto& slot = impl_->clients[key];
    slot = std::make_unique<Client>(impl_->loop, ep.value(), impl_->options);
    return slot.get();
}

void ClientPool::retain_if(const std::function<bool(const std::string&)>& keep) {
    std::erase_if(impl_->clients, [&](const auto& entry) { return !keep(entry.first); });
    std::erase_if(impl_->order, [&](const std::string& a) { return !impl_->clients.count(a); });
}

void ClientPool::clear() {
    impl_->clients.clear();
    impl_->order.clear();
}

std::size_t ClientPool::size() const { return impl_->clients.size(); }

}  // namespace veil::sdk::net
