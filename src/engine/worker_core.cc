#include "engine/worker_core.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "core/clock.h"

namespace headroom::engine {

ErrorClass ClassifyConnectErrno(int err) {
  switch (err) {
    case ECONNREFUSED:
      return ErrorClass::kConnectRefused;
    case ETIMEDOUT:
      return ErrorClass::kConnectTimeout;
    default:
      return ErrorClass::kConnectError;
  }
}

bool EnableReceiveTimes(int fd) {
  const int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
}

int64_t ReceiveTimeRealNs(const cmsghdr* cm) {
  if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) return -1;
  timespec ts;
  std::memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
  return int64_t(ts.tv_sec) * kSecondNs + ts.tv_nsec;
}

int64_t RealMinusMonoNs() {
  // The realtime read between two monotonic ones, against their midpoint. A read that was
  // preempted would skew the offset by the pause, so the tightest of three is kept.
  int64_t best = 0;
  int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 3 && best_gap > 2000; ++i) {
    const int64_t before = MonoNowNs();
    timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    const int64_t after = MonoNowNs();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = int64_t(real.tv_sec) * kSecondNs + real.tv_nsec - (before + (after - before) / 2);
    }
  }
  return best;
}

WorkerCore::WorkerCore(const Config& config, int index, int64_t start_ns, int connections,
                       std::vector<RateSegment> profile, double phase)
    : config_(config),
      start_ns_(start_ns),
      end_ns_(start_ns + config.duration_ns),
      connect_timeout_ns_(config.connect_timeout_ns > 0 ? config.connect_timeout_ns
                                                        : std::min<int64_t>(config.timeout_ns, 5 * kSecondNs)),
      open_(config.model == Model::kOpen),
      stream_(config.source->ForWorker(index, config.seed * 7919 + index)),
      pacer_(std::move(profile), config.arrival, config.seed * 104729 + index, phase),
      interval_us_(std::make_unique<Histogram>()) {
  const int slots = std::max(connections, 1);
  idle_.reserve(size_t(slots));
  closed_.reserve(size_t(slots));
  timers_.reserve(size_t(slots));
  for (int i = slots - 1; i >= 0; --i) closed_.push_back(i);
  for (const std::string& name : config.source->names()) {
    requests_.push_back(RequestStats{name, Histogram(), Counters{}, std::string()});
  }
  timeouts_ns_ = config.source->timeouts_ns();
  timeouts_ns_.resize(requests_.size(), 0);
  for (int64_t& t : timeouts_ns_) {
    if (t <= 0) t = config.timeout_ns;
  }
  checks_ = config.source->checks();
  checks_.resize(requests_.size(), nullptr);
}

void WorkerCore::StartSchedule(int64_t now) {
  next_sweep_ns_ = now + kSweepEveryNs;
  if (open_) {
    int64_t offset = pacer_.Next();
    next_arrival_ns_ = offset < 0 ? -1 : start_ns_ + offset;
  }
}

bool WorkerCore::StopSignalled() const {
  return (config_.stop && config_.stop->load(std::memory_order_relaxed)) ||
         (config_.abort && config_.abort->load(std::memory_order_relaxed));
}

int64_t WorkerCore::NextWakeNs(int64_t now) const {
  (void)now;
  int64_t wake = std::min(end_ns_, next_sweep_ns_);
  wake = std::min(wake, start_ns_ + (interval_second_ + 1) * kSecondNs);
  if (open_ && next_arrival_ns_ >= 0) wake = std::min(wake, next_arrival_ns_);
  if (!timers_.empty()) wake = std::min(wake, timers_.front().first);
  return wake;
}

void WorkerCore::FirePacer(int64_t now) {
  while (next_arrival_ns_ >= 0 && next_arrival_ns_ <= now) {
    int64_t intended = next_arrival_ns_;
    lateness_us_.Record(ToUs(now - intended));
    ++interval_.intended;
    Dispatch(intended, now);
    int64_t offset = pacer_.Next();
    next_arrival_ns_ = offset < 0 ? -1 : start_ns_ + offset;
  }
}

void WorkerCore::RecordResponse(int request_id, int code, const http::ResponseCapture& kept, uint64_t body_bytes,
                                int64_t intended_ns, int64_t write_ns, int64_t at) {
  int64_t response_us = ToUs(at - intended_ns);
  interval_us_->Record(response_us);
  service_us_.Record(ToUs(at - write_ns));
  service_ewma_ns_ += (at - write_ns - service_ewma_ns_) / 16;
  ++interval_.completed;
  if (code >= 0 && code < 600) ++interval_.status_codes[code];
  RequestStats& rs = requests_[request_id];
  rs.response_time_us.Record(response_us);
  ++rs.counters.completed;
  if (code >= 0 && code < 600) ++rs.counters.status_codes[code];
  ResponseCheck::Outcome outcome = code >= 400 ? ResponseCheck::Outcome::kHttpError : ResponseCheck::Outcome::kPass;
  if (const ResponseCheck* check = checks_[request_id]) {
    std::string* reason = rs.first_check_failure.empty() ? &rs.first_check_failure : nullptr;
    outcome = check->Evaluate(code, kept, body_bytes, reason);
  }
  if (outcome == ResponseCheck::Outcome::kHttpError) {
    CountError(code >= 500 ? ErrorClass::kHttp5xx : ErrorClass::kHttp4xx, request_id);
  } else if (outcome == ResponseCheck::Outcome::kFail) {
    CountError(ErrorClass::kCheckFailed, request_id);
  } else {
    ++interval_.ok;
    ++rs.counters.ok;
  }
}

void WorkerCore::CountError(ErrorClass cls, int request_id) {
  ++interval_.errors;
  ++interval_.by_class[int(cls)];
  Counters& rc = requests_[request_id].counters;
  ++rc.errors;
  ++rc.by_class[int(cls)];
}

void WorkerCore::ExpireQueued(int64_t now) {
  // Requests queued in the generator are timed from their intended start too.
  while (!pending_.empty() && now - pending_.front() > config_.timeout_ns) {
    pending_.pop_front();
    CountError(ErrorClass::kRequestTimeout, 0);
  }
}

void WorkerCore::Flush(int64_t now, bool final) {
  int64_t current = (now - start_ns_) / kSecondNs;
  std::lock_guard<std::mutex> lock(handoff_.mu);
  // Emit every second that has ended (empty ones too), then the partial last one on the final flush.
  while (interval_second_ < current || final) {
    Interval iv;
    iv.second = interval_second_;
    if (interval_second_ >= current) {
      iv.span_s = std::max(1e-3, double(now - start_ns_ - interval_second_ * kSecondNs) / 1e9);
    }
    iv.counters = interval_;
    iv.response_time_us = std::move(interval_us_);
    handoff_.ready.push_back(std::move(iv));
    interval_ = Counters{};
    if (!handoff_.spare.empty()) {
      interval_us_ = std::move(handoff_.spare.back());
      handoff_.spare.pop_back();
      interval_us_->Reset();
    } else {
      interval_us_ = std::make_unique<Histogram>();
    }
    ++interval_second_;
    if (final && interval_second_ > current) break;
  }
}

void WorkerCore::Finish(int64_t now) {
  interval_.unfinished += in_flight_;
  Flush(now, true);
  std::lock_guard<std::mutex> lock(handoff_.mu);
  handoff_.done = true;
}

}  // namespace headroom::engine
