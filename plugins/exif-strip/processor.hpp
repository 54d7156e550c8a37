#pragma once
// The attachment-processor interface and the chain that runs processors in order.
// Logic only: the plugin (exif_strip_plugin.cpp) puts a chain on the bus.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "strip_types.hpp"

namespace veil::exif_strip {

/// A file on its way out: its bytes, the MIME type the sender declared, and whether the sender
/// explicitly asked to send it with its metadata (then it goes untouched, whatever its type).
struct Attachment final {
    Bytes bytes;
    std::string mime_type;
    bool keep_metadata = false;
};

enum class Outcome : std::uint8_t {
    unset = 0,
    processed,       ///< the processor rewrote the file
    passed_through,  ///< the processor does not handle this type; the file is untouched
};

/// What one processor did to one file.
struct ProcessReport final {
    std::string processor;
    Outcome outcome = Outcome::unset;
    std::string detail;                ///< one line for people, e.g. "jpeg: 5 blocks removed"
    std::vector<std::string> removed;  ///< each removed block, e.g. "APP1 Exif (1234 bytes)"
};

/// A file a processor refuses (unparseable, or not what it claims to be): it must not be sent.
class ProcessError final : public std::runtime_error {
public:
    ProcessError(std::string_view processor, const std::string& reason)
        : std::runtime_error(std::string(processor) + ": " + reason), processor_(processor) {}
    [[nodiscard]] const std::string& processor() const { return processor_; }

private:
    std::string processor_;
};

/// One step of the outgoing-attachment chain. Implementations are stateless after
/// construction, so process() may run on any thread (the plugin runs it on a worker).
class Processor {
public:
    virtual ~Processor();
    /// Stable name used in config and reports, e.g. "exif-strip".
    [[nodiscard]] virtual std::string_view name() const = 0;
    /// Rewrites a in place (or leaves it untouched and says so). Throws ProcessError to refuse.
    virtual ProcessReport process(Attachment& a) const = 0;
};

/// Everything the chain did: the final file and one report per processor, in order.
struct ChainResult final {
    Attachment attachment;
    std::vector<ProcessReport> reports;
};

/// Runs processors in the order they were added; the first refusal stops the chain.
class ProcessorChain final {
public:
    void add(std::unique_ptr<Processor> p) { processors_.push_back(std::move(p)); }
    [[nodiscard]] std::size_t size() const { return processors_.size(); }
    /// Throws ProcessError when a processor refuses the file or fails in any other way.
    [[nodiscard]] ChainResult run(Attachment a) const;

private:
    std::vector<std::unique_ptr<Processor>> processors_;
};

}  // namespace veil::exif_strip
