#pragma once
/// The messenger's errors: an sdk::Error whose code callers branch on, and whose message is the
/// sentence a person reads. Only the edges turn it into output: the CLI prints "veil CMD: " +
/// message, the bus contract replies with the message. No code looks inside a message.
///
/// Codes as the messenger uses them:
///  - io:          the database could not be read or written (or holds damaged state);
///  - no_handler:  a plugin that serves a contract is missing (storage, attachments);
///  - unreachable: the network failed (no manifest, no answer, no swarm for a mailbox);
///  - refused:     a service node answered with an error status;
///  - not_found:   something looked up does not exist (no identity, no request from an ID,
///                 no device list published for an ID);
///  - bad_input:   what the person gave is not acceptable (empty message, own ID, too long);
///  - closed:      the bus is closed (the kernel is stopping).

#include <functional>
#include <string>

#include "veil/sdk/result.hpp"

namespace veil::messenger {

/// Receives one typed error (its message is the user-facing sentence).
using Fail = std::function<void(const sdk::Error&)>;

/// A failed storage-contract request: "cannot read|write the database: <code: message>" (io).
[[nodiscard]] sdk::Error database_error(const sdk::Error& e, bool writing);
/// The bus refused the request (closed): "cannot read|write the database: the bus is closed".
[[nodiscard]] sdk::Error database_closed(bool writing);
/// A failed swarm request: "network unreachable (<code: message>)" (unreachable).
[[nodiscard]] sdk::Error network_error(const sdk::Error& e);

/// True when a send to an ID failed because the ID can never be reached (it has no device list,
/// or encryption to it failed for good): the message leaves the queue instead of holding it up.
/// Network and storage trouble are not: the message stays queued and is retried.
[[nodiscard]] bool is_undeliverable(const sdk::Error& e);

}  // namespace veil::messenger
