// The `serve` subcommand's flags: each with its env var, its check and its help line, bound to a
// field of ServeConfig. They are a contract (docs/deploy.md lists them; scripts, deployments and
// tests name them): change none lightly. Apart from main.cpp, which only lists the subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include "wiring/serve_config.hpp"

namespace ticketd::wiring {

// Adds every `serve` option to `serve_cmd`, in the order `ticketd serve --help` lists them.
void add_serve_options(CLI::App& serve_cmd, ServeConfig& cfg);

}  // namespace ticketd::wiring
