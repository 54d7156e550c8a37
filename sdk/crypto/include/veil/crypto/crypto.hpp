#pragma once
/// Everything of libveil-crypto in one include.

#include "veil/crypto/device.hpp"
#include "veil/crypto/envelope.hpp"
#include "veil/crypto/error.hpp"
#include "veil/crypto/file.hpp"
#include "veil/crypto/group.hpp"
#include "veil/crypto/hkdf.hpp"
#include "veil/crypto/identity.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/crypto/keywrap.hpp"
#include "veil/crypto/mnemonic.hpp"
#include "veil/crypto/prekey.hpp"
#include "veil/crypto/ratchet.hpp"
#include "veil/crypto/secret_bytes.hpp"
#include "veil/crypto/session_manager.hpp"
#include "veil/crypto/x3dh.hpp"
