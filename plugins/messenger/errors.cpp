#include "errors.hpp"

namespace veil::messenger {

namespace {
std::string database_prefix(bool writing) { return writing ? "cannot write the database: " : "cannot read the database: "; }
}  // namespace

sdk::Error database_error(const sdk::Error& e, bool writing) {
    return {sdk::ErrorCode::io, database_prefix(writing) + e.describe()};
}

sdk::Error database_closed(bool writing) {
    return {sdk::ErrorCode::closed, database_prefix(writing) + "the bus is closed"};
}

sdk::Error network_error(const sdk::Error& e) {
    return {sdk::ErrorCode::unreachable, "network unreachable (" + e.describe() + ")"};
}

bool is_undeliverable(const sdk::Error& e) { return e.code == sdk::ErrorCode::not_found; }

}  // namespace veil::messenger
