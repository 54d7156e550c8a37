#include "passphrase_command.hpp"

#include <cstdlib>

#include "error.hpp"
#include "passphrase.hpp"
#include "sql_backend.hpp"

namespace veil::sqlcipher {

using Change = PassphraseRequest::Change;

std::optional<PassphraseRequest> parse_passphrase_args(const std::vector<std::string>& args, std::string& error) {
    PassphraseRequest r;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--passphrase-file" || a == "--new-passphrase-file") {
            if (i + 1 >= args.size()) {
                error = a + " needs a FILE";
                return std::nullopt;
            }
            if (a == "--new-passphrase-file") r.new_file = args[i + 1];
            ++i;
        } else if (a.starts_with("--passphrase-file=")) {
            continue;  // read when the database was opened
        } else if (a.starts_with("--new-passphrase-file=")) {
            r.new_file = a.substr(std::string_view("--new-passphrase-file=").size());
        } else if (a == "--remove") {
            r.change = Change::remove;
        } else if (a == "--rekey") {
            r.rekey = true;
        } else {
            error = "unknown argument '" + a + "'";
            return std::nullopt;
        }
    }
    bool wants_new = r.new_file || std::getenv("VEIL_NEW_PASSPHRASE");
    if (r.change == Change::remove && r.new_file) {
        error = "--remove and --new-passphrase-file exclude each other";
        return std::nullopt;
    }
    if (r.change != Change::remove && wants_new) r.change = Change::set;
    if (r.change == Change::keep && !r.rekey) {
        error = "nothing to do: give --new-passphrase-file FILE (or VEIL_NEW_PASSPHRASE), --remove, or --rekey";
        return std::nullopt;
    }
    return r;
}

void run_passphrase_command(sdk::CommandCall call, SqlBackend& backend,
                            std::shared_ptr<const crypto::SecretBytes> current) {
    if (has_flag(call.args(), "--help") || has_flag(call.args(), "-h")) {
        call.out(std::string("usage: veil ") + kPassphraseUsage + "\n" + kPassphraseOptions);
        call.finish(sdk::exit_code::ok);
        return;
    }
    std::string error;
    auto req = parse_passphrase_args(call.args(), error);
    if (!req) {
        call.fail("veil passphrase: " + error + "\nusage: veil " + kPassphraseUsage);
        return;
    }
    auto message = std::make_shared<std::string>();
    backend.with_vault(
        [req = *req, current, message](Vault& vault) {
            bool had = vault.protection() == Protection::passphrase;
            std::optional<crypto::SecretBytes> fresh;
            const crypto::SecretBytes* target = nullptr;
            if (req.change == Change::set) {
                fresh = req.new_file ? read_passphrase_file(*req.new_file) : passphrase_from_env("VEIL_NEW_PASSPHRASE");
                if (!fresh) throw Error(Failure::bad_input, "VEIL_NEW_PASSPHRASE is empty");
                target = &*fresh;
            } else if (req.change == Change::keep && had) {
                target = current.get();
                if (!target) throw Error(Failure::passphrase_required, "the current passphrase is needed to re-wrap the key");
            }
            if (req.change == Change::remove && !had && !req.rekey) {
                *message = "the database has no passphrase; nothing changed\n";
                return;
            }
            vault.reseal(target, req.rekey);
            auto kp = Vault::key_path(vault.path()).string();
            if (req.change == Change::set) {
                *message = std::string(had ? "passphrase changed" : "passphrase set") +
                           ": the database key is wrapped with Argon2id in " + kp + "\n";
            } else if (req.change == Change::remove) {
                *message = "passphrase removed: the database key is kept in " + kp + " (mode 0600)\n";
            }
            if (req.rekey) {
                *message += "database key rotated: every page is re-encrypted under a new random key\n";
            } else if (had) {
                *message += "note: old copies of the key file still open the database with the old passphrase; "
                            "'veil passphrase --rekey' makes them useless\n";
            }
        },
        [call, message](sdk::Status s) {
            if (!s.ok()) {
                call.fail("veil passphrase: " + s.error().message, sdk::exit_code::failure);
                return;
            }
            call.out(*message);
            call.finish(sdk::exit_code::ok);
        });
}

}  // namespace veil::sqlcipher
