// Subcommand entry points. Each parses its own arguments (argv[0] is the subcommand name) and
// returns the process exit code: 0 success, 1 a check failed (SLO, gate), 2 usage/config error.
// Errors are printed as one line on stderr, "headroom <cmd>: <message>".
#pragma once
#include <string>

namespace headroom::plan {
struct PlanOutput;
}

namespace headroom::cli {

int RunCommand(int argc, char** argv);       // run_cmd.cc:      headroom run URL|scenario.yaml
int TargetCommand(int argc, char** argv);    // target_cmd.cc:   headroom target
int DemoCommand(int argc, char** argv);      // demo_cmd.cc:     headroom demo
int ValidateCommand(int argc, char** argv);  // validate_cmd.cc: headroom validate scenario.yaml
int ModelCommand(int argc, char** argv);     // model_cmd.cc:    headroom model usl|queue
int PlanCommand(int argc, char** argv);      // plan_cmd.cc:     headroom plan plan.yaml
int ImportCommand(int argc, char** argv);    // import_cmd.cc:   headroom import curl|har|access-log
int ExplainCommand(int argc, char** argv);   // explain_cmd.cc:  headroom explain results.json
int CompareCommand(int argc, char** argv);   // compare_cmd.cc:  headroom compare before.json after.json
int SimulateCommand(int argc, char** argv);  // simulate_cmd.cc: headroom simulate plan.yaml
int ReportCommand(int argc, char** argv);    // report_cmd.cc:   headroom report DIR [--plan PLANDIR]
int MergeCommand(int argc, char** argv);     // merge_cmd.cc:    headroom merge DIR... --out DIR
int K8sCommand(int argc, char** argv);       // k8s_cmd.cc:      headroom k8s SCENARIO --parallelism N ...

// demo_stack.cc: headroom demo --stack (the shop on a local PostgreSQL and Redis), results under `out`.
int DemoStack(const std::string& out);

// demo_cmd.cc: one line per phase of a plan both demos wrote to `dir`.
void PrintPlanPhases(const plan::PlanOutput& built, const std::string& dir);

}  // namespace headroom::cli
