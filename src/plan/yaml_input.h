// Private to src/plan: typed, position-aware reading of YAML values for plan files and the remedies
// catalogue. Every problem is collected (not just the first) as "file:line:col: path: message" with
// 1-based positions taken from yaml-cpp marks. Not thread-safe per instance; no global state.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace headroom::plan {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void Add(const YAML::Mark& mark, const std::string& path, const std::string& message);
  void Add(const YAML::Node& node, const std::string& path, const std::string& message) {
    Add(node.Mark(), path, message);
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // All problems sorted by position, one per line, no trailing newline.
  std::string Text() const;
  const std::string& file() const { return file_; }

 private:
  struct Item {
    int line, col;
    std::string text;
  };
  std::string file_;
  std::vector<Item> items_;
};

// Reports keys of `map` not in `allowed`, suggesting the closest allowed key.
void CheckKeys(const YAML::Node& map, const std::string& path,
               std::initializer_list<std::string_view> allowed, Diagnostics& diag);
void CheckKeys(const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed, Diagnostics& diag);

// Each reader returns nullopt (and records why) when the value is present but wrong; absent
// values return nullopt without a diagnostic. `path` names the value in messages.
std::optional<std::string> ReadString(const YAML::Node& node, const std::string& path, Diagnostics& d);
std::optional<double> ReadNumber(const YAML::Node& node, const std::string& path, Diagnostics& d,
                                 double min_value, double max_value);
std::optional<int> ReadCount(const YAML::Node& node, const std::string& path, Diagnostics& d,
                             int min_value);
// Rates above 0 and at most kMaxRate per second; "1e3/s" is read as 1000/s.
inline constexpr double kMaxRate = 1e9;
std::optional<double> ReadRate(const YAML::Node& node, const std::string& path, Diagnostics& d);
std::optional<double> ReadDurationS(const YAML::Node& node, const std::string& path, Diagnostics& d);
// "30%" -> 0.3; `max_value` bounds the fraction (1 for shares).
std::optional<double> ReadPercent(const YAML::Node& node, const std::string& path, Diagnostics& d,
                                  double max_value);
// "6x" or a plain number from 1 to kMaxMultiple -> 6.
inline constexpr double kMaxMultiple = 100000;
std::optional<double> ReadMultiple(const YAML::Node& node, const std::string& path, Diagnostics& d);
std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path, Diagnostics& d);
// One of `choices`, with a suggestion when it is close to one.
std::optional<std::string> ReadChoice(const YAML::Node& node, const std::string& path,
                                      std::initializer_list<std::string_view> choices,
                                      Diagnostics& d);

}  // namespace headroom::plan

namespace headroom::plan {
struct PlanInput;
// simulation_input.cc: the `events:` and `autoscaling:` keys of a plan file.
void ReadEvents(const YAML::Node& node, PlanInput& in, Diagnostics& d);
void ReadAutoscaling(const YAML::Node& node, PlanInput& in, Diagnostics& d);
}  // namespace headroom::plan
