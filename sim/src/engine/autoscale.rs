//! Autoscaling with Kubernetes' algorithm (the HorizontalPodAutoscaler): every `sync_s` the
//! metric per ready replica is compared with the target, `desired = ceil(current × value /
//! target)` unless the ratio is within 10% of 1, clamped to `min`..`max`. Scaling up is at once
//! (the new replicas are ready after `start_s`); scaling down goes only as low as the highest
//! desire of the last `stabilization_s`, so a dip does not shed replicas a burst will need.

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use crate::time::{NS_PER_S, Time, s_to_ns};
use crate::topology::ScaleMetric;

/// Kubernetes' default tolerance: no change while the ratio is within 10% of 1.
const TOLERANCE: f64 = 0.1;

impl Engine {
    /// Plans every autoscaler's first sync.
    pub(super) fn plan_autoscalers(&mut self) {
        for s in 0..self.services.len() as u32 {
            if let Some(a) = &self.services[s as usize].autoscale {
                let at = s_to_ns(a.spec.sync_s);
                self.events.push(at, Ev::Autoscale { service: s });
            }
        }
    }

    /// The metric per ready replica, as the autoscaler sees it now.
    fn scale_value(&mut self, s: u32, since: Time) -> f64 {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        let ready = f64::from(svc.replicas_up().max(1));
        let Some(a) = svc.autoscale.as_mut() else { return 0.0 };
        match a.spec.metric {
            ScaleMetric::Cpu => {
                // Mean use over the period, against the request of the ready replicas.
                let area = svc.cpu_use.area_at(now);
                let used_m = (area - a.cpu_area) as f64 / (now - since).max(1) as f64;
                a.cpu_area = area;
                let request = svc.cpu_request_m.unwrap_or(1000.0);
                used_m / (request * ready)
            }
            ScaleMetric::InFlight => svc.busy.value() as f64 / ready,
            ScaleMetric::QueueReady => {
                svc.inputs.iter().map(|&q| self.queues[q as usize].ready.len() as f64).sum::<f64>() / ready
            }
        }
    }

    pub(super) fn on_autoscale(&mut self, s: u32) {
        self.n_events += 1;
        let now = self.now;
        let Some(spec) = self.services[s as usize].autoscale.as_ref().map(|a| a.spec.clone()) else { return };
        let sync = s_to_ns(spec.sync_s);
        let value = self.scale_value(s, now.saturating_sub(sync));
        let svc = &mut self.services[s as usize];
        let (node, current) = (svc.node, svc.wanted);
        let Some(a) = svc.autoscale.as_mut() else { return };
        let ratio = value / spec.target;
        let desired = if (ratio - 1.0).abs() <= TOLERANCE {
            current
        } else {
            (f64::from(current.max(1)) * ratio).ceil().clamp(f64::from(spec.min), f64::from(spec.max)) as u32
        };
        let window = s_to_ns(spec.stabilization_s);
        a.history.push_back((now, desired));
        while a.history.front().is_some_and(|&(t, _)| t + window < now) {
            a.history.pop_front();
        }
        let next = if desired > current {
            desired
        } else {
            // Down only as far as the highest desire within the window.
            a.history.iter().map(|&(_, d)| d).max().unwrap_or(desired).min(current)
        };
        svc.wanted = next;
        let Some(a) = svc.autoscale.as_mut() else { return };
        if next > current {
            a.scaled_up += u64::from(next - current);
            let start = s_to_ns(spec.start_s);
            for _ in current..next {
                if start == 0 {
                    self.replica_up(s, None);
                } else {
                    self.events.push(now.saturating_add(start), Ev::ScaledUp { service: s });
                }
            }
            self.log_event(node, LogKind::ScaledUp, next);
        } else if next < current {
            a.scaled_down += u64::from(current - next);
            for _ in next..current {
                let last = self.services[s as usize].replicas.iter().rposition(|r| r.up);
                if let Some(r) = last {
                    self.replica_down(s, r as u32);
                }
            }
            self.log_event(node, LogKind::ScaledDown, next);
        }
        self.events.push(now.saturating_add(sync.max(NS_PER_S)), Ev::Autoscale { service: s });
    }

    /// A replica the autoscaler asked for has started: it consumes from now.
    pub(super) fn on_scaled_up(&mut self, s: u32) {
        self.n_events += 1;
        self.replica_up(s, None);
    }
}
