// Fuzz target: a whole list page body, as the client and run.cpp use it:
// parse_list_envelope, then every item through parse_event (the events
// resource; the other resources share the envelope code), and the same bytes
// as an error body (parse_error_body, which is noexcept: a throw is a crash).
//
// Properties: only parse_error escapes; a parsed page holds only objects.
#include "core/stripe_parse.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace reconciler;
using reconciler::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    if (const auto err = parse_error_body(body)) {
        // Every field is a copy of a string in the body, so none can be longer.
        check(err->type.size() + err->code.size() + err->message.size() + err->param.size() <= size,
              "error fields come from the body");
    }

    list_envelope env;
    try {
        env = parse_list_envelope(body);
    } catch (const parse_error& e) {
        const std::string_view msg = e.what();
        check(msg.starts_with("parse JSON body: ") || msg.starts_with("list response"),
              "a list parse_error names what was parsed", msg);
        return 0;
    }
    for (const auto& item : env.data) {
        check(item.is_object(), "a list page holds only objects");
        try {
            (void)parse_event(item.get_object());
        } catch (const parse_error& e) {
            check(std::string_view(e.what()).starts_with("event"), "an event parse_error names the event", e.what());
        }
    }
    return 0;
}
