// Fuzzes what a node decodes from a client or a peer: the RPC request and, inside a peer
// request, the node-signed envelope (its header peeked first, as the node does), the owner
// proofs and the store auths its ops carry (owner-signed, and a stranger's work), and a store's
// work trailer as the node checks it.
// Re-encoding a decoded request must give the same bytes.
#include <cstdlib>

#include "veil/proto/peer_rpc.hpp"
#include "veil/proto/node_rpc.hpp"
#include "veil/proto/owner_auth.hpp"
#include "veil/proto/store_work.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    (void)veil::proto::node::peek_request_id(in);
    try {
        auto req = veil::proto::node::decode_request(in);
        if (veil::proto::node::encode_request(req) != veil::wire::Bytes(in.begin(), in.end())) std::abort();
        if (auto* s = std::get_if<veil::proto::node::StoreRequest>(&req.body)) {  // the node's work check
            auto hash = veil::proto::node::message_hash(s->mailbox, s->ns, s->data);
            (void)veil::proto::node::store_work_meets(*s, hash, 1ULL << 20);
            if (s->work) (void)veil::proto::node::store_work_live(*s->work, s->ttl_ms, 1'700'000'000'000, 60'000);
        }
        if (auto* p = std::get_if<veil::proto::node::PeerRequest>(&req.body)) {
            (void)veil::proto::node::peek_peer(p->envelope);
            auto env = veil::proto::node::open_peer(p->envelope);
            (void)veil::proto::node::verify_peer(env);
            if (auto* r = std::get_if<veil::proto::node::ReplicateBody>(&env.body))
                for (const auto& op : r->ops) {
                    if (op.proof) (void)veil::proto::node::open_owner_proof(*op.proof);
                    if (op.data && !op.store_auth.empty()) {
                        (void)veil::proto::node::open_store_auth(op.store_auth, op.state.mailbox, op.state.ns, *op.data);
                        if (auto paid = veil::proto::node::open_work_auth(op.store_auth, op.state.mailbox, op.state.ns,
                                                                          op.state.hash))
                            (void)veil::proto::node::store_work_live(paid->work, paid->ttl_ms, 1'700'000'000'000, 60'000);
                    }
                }
        }
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)veil::proto::node::open_peer(in);
    } catch (const veil::wire::DecodeError&) {
    }
    (void)veil::proto::node::peek_peer(in);
    (void)veil::proto::node::open_owner_proof(in);  // never throws: nullopt for anything malformed
    (void)veil::proto::node::open_store_auth(in, {}, 0x8001, {});
    (void)veil::proto::node::open_work_auth(in, {}, 0, {});
    return 0;
}
