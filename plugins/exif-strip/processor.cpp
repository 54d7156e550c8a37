#include "processor.hpp"

namespace veil::exif_strip {

Processor::~Processor() = default;

ChainResult ProcessorChain::run(Attachment a) const {
    ChainResult result;
    for (const auto& p : processors_) {
        try {
            result.reports.push_back(p->process(a));
        } catch (const ProcessError&) {
            throw;
        } catch (const std::exception& e) {  // any other failure refuses the file too
            throw ProcessError(p->name(), e.what());
        }
    }
    result.attachment = std::move(a);
    return result;
}

}  // namespace veil::exif_strip
