// TEMPORARY (branch i20-h): replaced at merge by task K's HTTPS senders.
// Every attempt is a retry "not built", so the outbox keeps its rows pending.
#include "deliver/sender.hpp"

namespace reconciler::deliver {

namespace {

class stub_sender final : public sender {
public:
    boost::asio::awaitable<attempt> send(const endpoint& to, const escalation_event&) override {
        co_return attempt{outcome::retry, 0, to.name + ": the HTTPS sender is not built in this branch", {}};
    }
};

}  // namespace

std::unique_ptr<sender> make_https_sender(boost::asio::any_io_executor, const https_sender_options&) {
    return std::make_unique<stub_sender>();
}

}  // namespace reconciler::deliver
