#pragma once
// The sqlcipher logic library throws veil::sql::Error (veil/sql/error.hpp); the plugin maps its
// Failure to an sdk::ErrorCode.
#include "veil/sdk/result.hpp"
#include "veil/sql/error.hpp"

namespace veil::sqlcipher {

using sql::Error;
using sql::Failure;

/// The storage contract's code for a failure.
sdk::ErrorCode to_error_code(Failure failure);

}  // namespace veil::sqlcipher
