// storage/sqlcipher: registration, config, passphrase sources and bus wiring of SqlBackend.
// The logic (key file, vault, database, store thread) is in the veil_sqlcipher_store library.
#include <sys/stat.h>

#include <memory>
#include <stdexcept>
#include <system_error>

#include "error.hpp"
#include "passphrase.hpp"
#include "passphrase_command.hpp"
#include "sql_backend.hpp"
#include "vault.hpp"
#include "veil/sdk/files.hpp"
#include "veil/sdk/plugin.hpp"

namespace veil::sqlcipher {

namespace {

namespace fs = std::filesystem;

// HOME/<path>, refusing paths that leave HOME.
fs::path database_path(const fs::path& home, const std::string& configured) {
    fs::path rel(configured);
    auto norm = rel.lexically_normal();
    if (configured.empty() || rel.is_absolute() || norm.empty() || *norm.begin() == ".." || norm.filename().empty()) {
        throw std::invalid_argument("sqlcipher.path must be a file path inside HOME, got '" + configured + "'");
    }
    return home / norm;
}

constexpr const char* kSummary = "set, change or remove the database passphrase; --rekey rotates the key";

class SqlcipherPlugin final : public sdk::Plugin {
public:
    void start(sdk::Context& ctx) override {
        const auto& cfg = ctx.config();
        auto path = database_path(ctx.home_dir(), cfg.get_string("path"));
        sdk::make_private_dirs(path.parent_path());

        static const std::vector<std::string> kNone;
        const auto& invocation = ctx.commands().invocation();
        const auto& argv = invocation ? *invocation : kNone;
        bool passphrase_command = !argv.empty() && argv.front() == "passphrase";
        std::shared_ptr<const crypto::SecretBytes> passphrase;
        VaultOptions options;
        options.database.durable_commits = cfg.get_bool("durable_commits");
        // In a HOME that `veil init` made (it has a veil.toml), only the command that makes the
        // account (`create-account`, which init runs) makes the database: a lost one is never
        // replaced by an empty one under the user's identity.
        bool initialised_home = fs::exists(ctx.home_dir() / "veil.toml");
        bool init_command = !argv.empty() && argv.front() == "create-account";
        options.create_if_missing = !passphrase_command && (!initialised_home || init_command);
        if (initialised_home && !init_command && !fs::exists(path) && !fs::exists(Vault::key_path(path))) {
            throw std::runtime_error("this HOME was set up by veil init, but there is no database at " + path.string() +
                                     " and no key file: they were moved or deleted. " + kRestoreAdvice);
        }
        backend_ = std::make_unique<SqlBackend>(ctx.loop());
        bool help_only = passphrase_command && (has_flag(argv, "--help") || has_flag(argv, "-h"));
        if (help_only) {
            // `veil passphrase --help` needs no database (there may be none yet).
            ctx.add_command({"passphrase", kSummary, kPassphraseUsage,
                             [this](sdk::CommandCall call) {
                                 run_passphrase_command(std::move(call), *backend_, nullptr);
                             },
                             kPassphraseOptions});
            return;
        }
        try {
            if (auto p = resolve_passphrase(argv, cfg.get_string("passphrase_file"))) {
                passphrase = std::make_shared<const crypto::SecretBytes>(std::move(*p));
            }
            backend_->open(path, passphrase.get(), options);
        } catch (const Error& e) {
            backend_->close();
            throw std::runtime_error(e.what());
        }
        sdk::storage::serve_storage(ctx, *backend_);
        backend_->with_vault(
            [log = ctx.logger(), had = passphrase != nullptr, path](Vault& v) {
                switch (v.outcome()) {
                    case OpenOutcome::created:
                        log->info("created encrypted database {} ({})", path.string(),
                                  v.protection() == Protection::passphrase ? "key wrapped by the passphrase"
                                                                           : "key in a 0600 key file");
                        break;
                    case OpenOutcome::finished_rotation:
                        log->warn("finished a key rotation that was interrupted");
                        break;
                    case OpenOutcome::undid_rotation:
                        log->warn("dropped a key rotation that was interrupted before it began");
                        break;
                    case OpenOutcome::opened:
                        log->debug("opened encrypted database {}", path.string());
                        break;
                }
                if (had && v.protection() == Protection::none) {
                    log->warn("a passphrase was given but the database has none ('veil passphrase' sets one)");
                }
            },
            [](sdk::Status) {});
        // Only `veil passphrase` needs the passphrase after opening; otherwise it is wiped now.
        if (!passphrase_command) passphrase.reset();
        ctx.add_command({"passphrase", kSummary, kPassphraseUsage,
                         [this, passphrase](sdk::CommandCall call) {
                             run_passphrase_command(std::move(call), *backend_, passphrase);
                         },
                         kPassphraseOptions});
    }

    // Queued writes finish and the database closes before the kernel goes on.
    void stop() override {
        if (backend_) backend_->close();
    }

private:
    std::unique_ptr<SqlBackend> backend_;
};

constexpr std::string_view kProvides[] = {"storage"};
constexpr std::string_view kCommands[] = {"passphrase"};
constexpr sdk::ConfigKeySpec kKeys[] = {
    {"path", sdk::ConfigType::string, "veil.db", "database file, relative to HOME (its key file is PATH.key)"},
    {"passphrase_file", sdk::ConfigType::string, "",
     "file whose first line is the passphrase (--passphrase-file and VEIL_PASSPHRASE also work)"},
    {"durable_commits", sdk::ConfigType::boolean, "true",
     "true: every commit is synced (survives power loss); false: survives a crash of veil only"},
};
constexpr sdk::PluginInfo kInfo{
    .name = "sqlcipher",
    .version = "0.1.0",
    .kind = sdk::PluginKind::storage,
    .description = "encrypted key/value storage in SQLCipher; implements the storage contract",
    .provides = kProvides,
    .requires_ = {},
    .config = kKeys,
    .commands = kCommands,
};

}  // namespace
}  // namespace veil::sqlcipher

VEIL_PLUGIN(sqlcipher, veil::sqlcipher::kInfo, veil::sqlcipher::SqlcipherPlugin)
