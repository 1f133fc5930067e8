#include "control/controller/controller.h"

#include <algorithm>
#include <future>
#include <system_error>
#include <thread>

#include "control/compile/compile.h"
#include "control/compile/tables_codec.h"
#include "control/model/loader.h"

namespace weft::ctl {

Expected<std::unique_ptr<Controller>> Controller::start(boost::asio::io_context& io,
                                                        ControllerOptions options) {
  auto southbound_tls = make_tls_context(TlsRole::kServer, options.tls, PeerCerts::kRequire);
  if (!southbound_tls) return Unexpected{southbound_tls.error()};
  // The API also takes bearer tokens, so a client certificate is optional.
  auto api_tls = make_tls_context(TlsRole::kServer, options.tls, PeerCerts::kOptional);
  if (!api_tls) return Unexpected{api_tls.error()};
  if (!options.tls_crl.empty())
    for (auto* ctx : {&*southbound_tls, &*api_tls})
      if (auto s = require_crl(**ctx, options.tls_crl); !s) return Unexpected{s.error()};

  std::unique_ptr<Controller> c(new Controller(std::move(options)));
  ControllerOptions& o = c->options_;
  auto store = StateStore::open(o.state_dir, o.store_io);
  if (!store) return Unexpected{store.error()};
  c->store_ = std::move(*store);

  o.southbound_options.log = o.log;
  o.api_options.log = o.log;
  c->southbound_ = std::make_unique<SouthboundServer>(io, std::move(*southbound_tls), o.southbound_options);
  if (auto s = c->restore(); !s) return Unexpected{s.error()};

  Controller* self = c.get();
  c->southbound_->add_ack_observer([self](const std::string& node, uint64_t version, bool ok) {
    if (ok) self->metrics_.acked(node, version, ControllerMetrics::Clock::now());
  });
  auto sb = c->southbound_->listen(o.southbound);
  if (!sb) return Unexpected{sb.error()};
  c->southbound_ep_ = *sb;
  c->api_ = std::make_unique<api::ApiServer>(io, std::move(*api_tls), *c, o.api_options);
  auto api = c->api_->listen(o.api);
  if (!api) return Unexpected{api.error()};
  c->api_ep_ = *api;
  std::string metrics_note;
  if (o.metrics) {
    prom::MetricsServerOptions mo;
    mo.log = o.log;
    c->metrics_server_ = std::make_unique<prom::MetricsServer>(io, [self] { return self->metrics_text(); }, mo);
    auto m = c->metrics_server_->listen(*o.metrics);
    if (!m) return Unexpected{m.error()};
    c->metrics_ep_ = *m;
    metrics_note = ", metrics " + m->address().to_string() + ":" + std::to_string(m->port());
  }

  const auto& current = c->store_->current();
  o.log.info("serving policy version " + std::to_string(current.version) + " (" +
             std::to_string(c->desired_ ? c->desired_->tables.size() : 0) + " nodes); southbound " +
             c->southbound_ep_.address().to_string() + ":" + std::to_string(c->southbound_ep_.port()) +
             ", API " + c->api_ep_.address().to_string() + ":" + std::to_string(c->api_ep_.port()) + metrics_note);
  return c;
}

Controller::~Controller() { stop(); }

void Controller::stop() {
  if (metrics_server_) metrics_server_->stop();
  if (api_) api_->stop();
  if (southbound_) southbound_->stop();
}

Status Controller::restore() {
  const DesiredState& state = store_->current();
  if (state.version == 0) return ok();
  const std::string path = store_->dir() + "/" + std::string(StateStore::kStateFile);
  Diagnostics diags;
  auto model = policy::load_policy_text(state.policy, path, diags);
  if (!model) {
    // Positions count from the line after the state file's header.
    Diagnostics shifted;
    for (const auto& d : diags.items())
      shifted.error({d.pos.file, d.pos.line ? d.pos.line + 1 : 0, d.pos.column}, d.message);
    return Unexpected{"the policy stored in " + path + " (version " + std::to_string(state.version) +
                      ") does not validate; move the file away (nodes keep their tables) and "
                      "apply a corrected policy:\n" + shifted.format()};
  }
  auto tables = compile_tables(*model);
  southbound_->publish(state.version, tables);
  desired_ = Desired{std::move(*model), std::move(tables)};
  return ok();
}

std::map<std::string, std::string> Controller::compile_tables(const policy::Model& next) const {
  // Recompile only the nodes the change may reach; the others keep their
  // bytes (and the southbound server, comparing bytes, leaves them alone).
  std::vector<std::string> touched;
  if (desired_) touched = policy::nodes_touched(desired_->model, next);
  std::map<std::string, std::string> out;
  std::vector<std::pair<const std::string*, std::string*>> todo;  // name -> bytes to fill
  for (const auto& node : next.nodes) {
    std::string& bytes = out[node.name];
    const std::string* kept = nullptr;
    if (desired_ && !std::binary_search(touched.begin(), touched.end(), node.name)) {
      auto old = desired_->tables.find(node.name);
      if (old != desired_->tables.end()) kept = &old->second;
    }
    if (kept)
      bytes = *kept;
    else
      todo.emplace_back(&node.name, &bytes);
  }
  // Nodes compile independently and compile_node() is thread-safe on a const
  // Model: spread them over the cores. Each lane writes its own entries.
  auto lane = [&](size_t first, size_t stride) {
    for (size_t i = first; i < todo.size(); i += stride)
      *todo[i].second = policy::serialize_tables(policy::compile_node(next, *todo[i].first));
  };
  const size_t lanes = todo.size() < 8 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::future<void>> helpers;
  size_t l = 1;
  try {
    for (; l < lanes; ++l) helpers.push_back(std::async(std::launch::async, lane, l, lanes));
  } catch (const std::system_error&) {
    // No thread to be had: lanes l.. run here below.
  }
  lane(0, lanes);
  for (size_t orphan = l; orphan < lanes; ++orphan) lane(orphan, lanes);
  for (auto& h : helpers) h.get();
  return out;
}

api::ApplyOutcome Controller::apply_policy(std::string yaml) {
  const auto started = ControllerMetrics::Clock::now();
  api::ApplyOutcome out;
  const DesiredState& current = store_->current();
  if (current.version > 0 && current.policy == yaml) {
    out.kind = api::ApplyOutcome::Kind::kApplied;
    out.result.version = current.version;
    out.result.unchanged = true;
    metrics_.put(ControllerMetrics::Result::kUnchanged);
    return out;
  }
  Diagnostics diags;
  auto model = policy::load_policy_text(yaml, kRequestName, diags);
  if (!model) {
    out.kind = api::ApplyOutcome::Kind::kInvalid;
    diags.sort();
    out.errors = diags.items();
    metrics_.put(ControllerMetrics::Result::kInvalid);
    return out;
  }
  // Persisting waits on the disk and compiling on the CPU: do both at once.
  // Nothing is pushed before both are done, so no node ever runs a version
  // that a crash could take back. The store is not touched by this thread
  // until get() returns.
  auto persist = [store = store_.get(), yaml = std::move(yaml)]() mutable {
    return store->commit(std::move(yaml));
  };
  std::future<Expected<uint64_t>> persisted;
  try {
    persisted = std::async(std::launch::async, std::ref(persist));
  } catch (const std::system_error&) {
    persisted = std::async(std::launch::deferred, std::ref(persist));  // no thread: in turn
  }
  const auto compile_start = ControllerMetrics::Clock::now();
  auto tables = compile_tables(*model);
  metrics_.compiled(std::chrono::duration<double>(ControllerMetrics::Clock::now() - compile_start).count());
  auto version = persisted.get();
  if (!version) {
    out.kind = api::ApplyOutcome::Kind::kFailed;
    out.failure = "cannot persist the policy: " + version.error();
    metrics_.put(ControllerMetrics::Result::kFailed);
    return out;
  }
  out.kind = api::ApplyOutcome::Kind::kApplied;
  out.result.version = *version;
  std::vector<std::string> in_policy;
  for (const auto& [name, bytes] : tables) in_policy.push_back(name);
  out.result.changed_nodes = southbound_->publish(*version, tables);
  metrics_.put(ControllerMetrics::Result::kApplied);
  metrics_.applied(*version, out.result.changed_nodes, in_policy, started);
  desired_ = Desired{std::move(*model), std::move(tables)};
  return out;
}

std::vector<Diagnostic> Controller::validate_policy(std::string_view yaml) {
  Diagnostics diags;
  policy::load_policy_text(yaml, kRequestName, diags);
  diags.sort();
  return diags.items();
}

api::PolicyDocument Controller::current_policy() const {
  const DesiredState& s = store_->current();
  return {s.version, s.policy};
}

std::string Controller::metrics_text() const {
  return metrics_.render(store_->current().version, southbound_->status());
}

api::StatusReport Controller::status() const {
  return {store_->current().version, southbound_->status()};
}

}  // namespace weft::ctl
