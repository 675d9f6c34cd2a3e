// Prints the cases of llama.cpp's own tests/test-json-schema-to-grammar.cpp (compiled from the
// pinned source, not copied) as JSON lines: {"name", "status": "success"|"failure", "schema",
// "grammar"}, the expected grammar as that test compares it. The oracle of JsonSchemaOracleTest.
#define main llamajava_unused_test_main
#include "test-json-schema-to-grammar.cpp"
#undef main

#include <cstdio>

int main() {
    test_all("cases", [](const TestCase & tc) {
        common_json j = common_json::object();
        j["name"]    = tc.name;
        j["status"]  = std::string(tc.expected_status == SUCCESS ? "success" : "failure");
        j["schema"]  = tc.schema;
        j["grammar"] = trim(tc.expected_grammar);
        std::printf("%s\n", j.dump().c_str());
    });
    return 0;
}
