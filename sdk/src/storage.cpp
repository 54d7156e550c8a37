#include "veil/sdk/storage.hpp"

#include "veil/sdk/context.hpp"

namespace veil::sdk::storage {

Backend::~Backend() = default;

namespace {
// Forwards a backend completion to the bus responder.
template <class Reply>
std::function<void(Result<Reply>)> answer(Responder<Reply> r) {
    return [r](Result<Reply> result) {
        if (result.ok()) {
            r.reply(std::move(result).value());
        } else {
            r.fail(result.error());
        }
    };
}
}  // namespace

void serve_storage(Context& ctx, Backend& backend) {
    Backend* b = &backend;
    ctx.serve<Put>([b](const Put& op, Responder<Done> r) { b->put(op, answer(std::move(r))); });
    ctx.serve<Get>([b](const Get& op, Responder<GetReply> r) { b->get(op, answer(std::move(r))); });
    ctx.serve<Erase>([b](const Erase& op, Responder<Done> r) { b->erase(op, answer(std::move(r))); });
    ctx.serve<Scan>([b](const Scan& op, Responder<ScanReply> r) { b->scan(op, answer(std::move(r))); });
    ctx.serve<Batch>([b](const Batch& op, Responder<Done> r) { b->batch(op, answer(std::move(r))); });
}

}  // namespace veil::sdk::storage
