// flags_test.cc — the tunables table: defaults, parsing of every kind, bad values
// (one warning line, default kept), option names and the generated docs.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "flags.h"

namespace racetrap {
namespace {

// Parses from a fixed environment, collecting warnings.
struct Parsed {
  Flags flags;
  std::vector<std::string> warnings;
};

Parsed parse(const std::map<std::string, std::string>& env) {
  Parsed out;
  out.flags = parse_flags(
      [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      [&out](const std::string& line) { out.warnings.push_back(line); });
  return out;
}

const FlagInfo& row(const char* field) {
  for (const FlagInfo& info : flag_table())
    if (std::string(info.field) == field) return info;
  ADD_FAILURE() << "no flag " << field;
  return flag_table().front();
}

TEST(FlagsDefaults, EmptyEnvironmentGivesDefaultsWithoutWarnings) {
  Parsed p = parse({});
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_EQ(describe_flags(p.flags), describe_flags(Flags{}));
  EXPECT_TRUE(p.flags.enable);
  EXPECT_EQ(p.flags.sample_us, 0);  // the mode's default (sample_period_us)
  EXPECT_EQ(p.flags.watchpoints, 4);
  EXPECT_EQ(p.flags.log_path, "racetrap");
  EXPECT_EQ(p.flags.seed, 0);
  EXPECT_EQ(p.flags.verbosity, 0);
  EXPECT_FALSE(p.flags.report_atomics);
  EXPECT_EQ(p.flags.exitcode, 66);
}

TEST(FlagsDefaults, TableDefaultTextMatchesStructDefaults) {
  const Flags defaults;
  std::string described = describe_flags(defaults);
  for (const FlagInfo& info : flag_table()) {
    std::string line = std::string(info.env_name) + "=" + info.default_text + "\n";
    EXPECT_NE(described.find(line), std::string::npos) << line;
  }
}

TEST(FlagsDefaults, IssueRequiredTunablesExist) {
  for (const char* env : {"RACETRAP_SAMPLE_US", "RACETRAP_WATCHPOINTS", "RACETRAP_LOG_PATH",
                          "RACETRAP_ENABLE", "RACETRAP_SEED", "RACETRAP_VERBOSITY"}) {
    bool found = false;
    for (const FlagInfo& info : flag_table()) found |= std::string(info.env_name) == env;
    EXPECT_TRUE(found) << env;
  }
}

TEST(FlagsParse, EveryKindParses) {
  Parsed p = parse({{"RACETRAP_SAMPLE_US", "500"},
                    {"RACETRAP_WATCHPOINTS", "2"},
                    {"RACETRAP_ENABLE", "0"},
                    {"RACETRAP_REPORT_ATOMICS", "yes"},
                    {"RACETRAP_LOG_PATH", "/tmp/x/report"},
                    {"RACETRAP_SEED", "12345"},
                    {"RACETRAP_VERBOSITY", "3"},
                    {"RACETRAP_EXITCODE", "0"}});
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  EXPECT_EQ(p.flags.sample_us, 500);
  EXPECT_EQ(p.flags.watchpoints, 2);
  EXPECT_FALSE(p.flags.enable);
  EXPECT_TRUE(p.flags.report_atomics);
  EXPECT_EQ(p.flags.log_path, "/tmp/x/report");
  EXPECT_EQ(p.flags.seed, 12345);
  EXPECT_EQ(p.flags.verbosity, 3);
  EXPECT_EQ(p.flags.exitcode, 0);
}

TEST(FlagsParse, BoolSpellings) {
  const FlagInfo& info = row("report_atomics");
  for (const char* yes : {"1", "true", "TRUE", "yes", "Yes", "on"}) {
    Flags f;
    EXPECT_EQ(set_flag(f, info, yes), "") << yes;
    EXPECT_TRUE(f.report_atomics) << yes;
  }
  for (const char* no : {"0", "false", "False", "no", "off", "OFF"}) {
    Flags f;
    f.report_atomics = true;
    EXPECT_EQ(set_flag(f, info, no), "") << no;
    EXPECT_FALSE(f.report_atomics) << no;
  }
}

TEST(FlagsParse, IntRangeBoundsOfEveryRow) {
  for (const FlagInfo& info : flag_table()) {
    if (info.kind != FlagKind::Int) continue;
    Flags f;
    EXPECT_EQ(set_flag(f, info, std::to_string(info.min).c_str()), "") << info.env_name;
    EXPECT_EQ(set_flag(f, info, std::to_string(info.max).c_str()), "") << info.env_name;
    EXPECT_NE(set_flag(f, info, std::to_string(info.min - 1).c_str()), "") << info.env_name;
    EXPECT_NE(set_flag(f, info, std::to_string(info.max + 1).c_str()), "") << info.env_name;
  }
}

// A bad value: exactly one line naming the variable, the value and the default,
// and the default kept.
void expect_rejected(const char* env, const char* value) {
  const FlagInfo* info = nullptr;
  for (const FlagInfo& i : flag_table())
    if (std::string(i.env_name) == env) info = &i;
  ASSERT_NE(info, nullptr) << env;
  Parsed p = parse({{env, value}});
  ASSERT_EQ(p.warnings.size(), 1u) << env << "='" << value << "'";
  const std::string& line = p.warnings[0];
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.rfind("racetrap: ", 0), 0u) << line;
  EXPECT_NE(line.find(env), std::string::npos) << line;
  EXPECT_NE(line.find(std::string("'") + value + "'"), std::string::npos) << line;
  EXPECT_NE(line.find("default " + info->default_text), std::string::npos) << line;
  EXPECT_EQ(describe_flags(p.flags), describe_flags(Flags{})) << line;
}

TEST(FlagsBadValue, BadInt) {
  expect_rejected("RACETRAP_SAMPLE_US", "fast");
  expect_rejected("RACETRAP_SAMPLE_US", "12x");
  expect_rejected("RACETRAP_SAMPLE_US", "1.5");
  expect_rejected("RACETRAP_SEED", "99999999999999999999999");
}

TEST(FlagsBadValue, OutOfRange) {
  expect_rejected("RACETRAP_WATCHPOINTS", "0");
  expect_rejected("RACETRAP_WATCHPOINTS", "5");
  expect_rejected("RACETRAP_SAMPLE_US", "-1");
  expect_rejected("RACETRAP_EXITCODE", "256");
}

TEST(FlagsBadValue, BadBool) {
  expect_rejected("RACETRAP_ENABLE", "maybe");
  expect_rejected("RACETRAP_REPORT_ATOMICS", "2");
}

TEST(FlagsBadValue, EmptyString) {
  expect_rejected("RACETRAP_LOG_PATH", "");
  expect_rejected("RACETRAP_SAMPLE_US", "");
  expect_rejected("RACETRAP_ENABLE", "");
}

// RACETRAP_FORMAT is checked at start-up like every other value, not first at exit.
TEST(FlagsBadValue, UnknownReportFormat) {
  expect_rejected("RACETRAP_FORMAT", "xml");
  expect_rejected("RACETRAP_FORMAT", "text,bogus");
  expect_rejected("RACETRAP_FORMAT", ",");
  Parsed p = parse({{"RACETRAP_FORMAT", "xml"}});
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0],
            "racetrap: RACETRAP_FORMAT='xml' has an unknown word 'xml' (use any of text, json, sarif, "
            "comma-separated); using the default text");
  Parsed good = parse({{"RACETRAP_FORMAT", "json, sarif"}});
  EXPECT_TRUE(good.warnings.empty());
  EXPECT_EQ(good.flags.format, "json, sarif");
}

TEST(FlagsReset, PutsOneFlagBackToItsDefault) {
  Flags f;
  ASSERT_EQ(set_flag(f, row("sample_us"), "100"), "");
  ASSERT_EQ(set_flag(f, row("suppressions"), "/x"), "");
  reset_flag(f, row("sample_us"));
  reset_flag(f, row("suppressions"));
  EXPECT_EQ(f.sample_us, Flags{}.sample_us);
  EXPECT_EQ(f.suppressions, "");
}

TEST(FlagsBadValue, OneBadValueDoesNotSpoilTheOthers) {
  Parsed p = parse({{"RACETRAP_SAMPLE_US", "oops"}, {"RACETRAP_WATCHPOINTS", "3"}});
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.flags.sample_us, Flags{}.sample_us);
  EXPECT_EQ(p.flags.watchpoints, 3);
}

TEST(FlagsBadValue, SetFlagProblemOmitsTheVariableName) {
  Flags f;
  std::string problem = set_flag(f, row("sample_us"), "abc");
  EXPECT_FALSE(problem.empty());
  EXPECT_EQ(problem.find("RACETRAP_"), std::string::npos) << problem;
  EXPECT_EQ(f.sample_us, Flags{}.sample_us);
}

TEST(FlagsOptionName, DashesForUnderscores) {
  EXPECT_EQ(row("sample_us").option_name(), "--sample-us");
  EXPECT_EQ(row("report_atomics").option_name(), "--report-atomics");
  EXPECT_EQ(row("log_path").option_name(), "--log-path");
  EXPECT_EQ(row("enable").option_name(), "--enable");
  for (const FlagInfo& info : flag_table()) {
    std::string name = info.option_name();
    EXPECT_EQ(name.rfind("--", 0), 0u);
    EXPECT_EQ(name.find('_'), std::string::npos) << name;
  }
}

TEST(FlagsDocs, MarkdownHasOneRowPerFlag) {
  std::string md = flags_markdown();
  size_t lines = 0;
  for (char c : md) lines += c == '\n';
  EXPECT_EQ(lines, flag_table().size() + 2);  // header + separator + rows
  for (const FlagInfo& info : flag_table()) {
    EXPECT_NE(md.find(std::string("`") + info.env_name + "`"), std::string::npos);
    EXPECT_NE(md.find(std::string("`").append(info.option_name()).append("`")), std::string::npos);
  }
}

TEST(FlagsDocs, HelpNamesEveryOptionAndVariable) {
  std::string help = flags_help();
  for (const FlagInfo& info : flag_table()) {
    EXPECT_NE(help.find(info.option_name()), std::string::npos);
    EXPECT_NE(help.find(info.env_name), std::string::npos);
  }
}

}  // namespace
}  // namespace racetrap
