//! Compiling an `EnginePlan` into what the engine runs: interned endpoints and targets,
//! pre-encoded templates, user classes with cumulative weights, the load profile.

pub mod endpoints;
pub mod target;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::proto;
use crate::wait::WaitTime;
pub use endpoints::{EndpointKey, EndpointTable};
pub use target::{Scheme, Target, TargetTable};
pub use template::{EncodeOptions, Protocol, Template};

/// A weighted task of a declarative user class.
#[derive(Debug)]
pub struct TaskSpec {
    /// Cumulative weight up to and including this task.
    pub cumulative: u64,
    pub request: Arc<Template>,
}

/// One user class, ready to run.
#[derive(Debug)]
pub struct UserClass {
    pub index: u32,
    pub name: String,
    pub weight: u32,
    pub fixed_count: u32,
    pub wait: WaitTime,
    pub tasks: Vec<TaskSpec>,
    pub on_start: Vec<Arc<Template>>,
    pub on_stop: Vec<Arc<Template>>,
    /// Tasks run in Python; the engine only schedules the users.
    pub python: bool,
}

impl UserClass {
    /// Picks a task by weight.
    pub fn pick_task(&self, rng: &mut fastrand::Rng) -> Option<&Arc<Template>> {
        let total = self.tasks.last()?.cumulative;
        let x = rng.u64(0..total);
        let i = self.tasks.partition_point(|t| t.cumulative <= x);
        self.tasks.get(i).map(|t| &t.request)
    }
}

/// The load model and its limits.
#[derive(Debug, Clone)]
pub enum Model {
    Closed { users: u32, spawn_rate: f64 },
    Open { rate: f64, max_in_flight: u32 },
}

/// A ramp step: reach `target` at the end of `duration`.
#[derive(Debug, Clone, Copy)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

/// Everything the engine needs, compiled.
pub struct CompiledPlan {
    pub classes: Vec<UserClass>,
    pub model: Model,
    pub stages: Vec<Stage>,
    pub run_time: Option<Duration>,
    pub iterations: u64,
    pub connect_timeout: Duration,
    pub request_timeout: Option<Duration>,
    pub connection_per_request: bool,
    /// HTTP/2 connections per target per runtime thread.
    pub h2_connections: usize,
    pub threads: usize,
    pub correct_pacing: bool,
    pub tls_insecure: bool,
    pub tls_ca_pem: Vec<u8>,
    pub stop_timeout: Duration,
    pub encode: EncodeOptions,
}

fn secs(v: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(v).map_err(|_| Error::Plan(format!("invalid {what}: {v}")))
}

/// HTTP/2 connections per target per runtime thread when the plan does not say.
pub const DEFAULT_H2_CONNECTIONS: usize = 4;
const MAX_H2_CONNECTIONS: u32 = 1024;

impl CompiledPlan {
    /// Validates and compiles `plan`, interning into `targets` and `endpoints`.
    pub fn compile(
        plan: &proto::EnginePlan,
        targets: &TargetTable,
        endpoints: &EndpointTable,
    ) -> Result<Self> {
        let encode = EncodeOptions {
            connection_close: plan.connection_per_request,
            // Validated with the other durations below.
            grpc_timeout: Duration::try_from_secs_f64(plan.request_timeout_s)
                .ok()
                .filter(|d| !d.is_zero()),
        };
        let mut classes = Vec::with_capacity(plan.users.len());
        for (index, uc) in plan.users.iter().enumerate() {
            classes.push(compile_class(index as u32, uc, targets, endpoints, encode)?);
        }
        let profile = plan.profile.clone().unwrap_or_default();
        let model = match profile.model {
            Some(proto::load_profile::Model::Open(o)) => {
                if !(o.rate >= 0.0 && o.rate.is_finite()) {
                    return Err(Error::Plan(format!("invalid arrival rate {}", o.rate)));
                }
                Model::Open {
                    rate: o.rate,
                    max_in_flight: o.max_in_flight,
                }
            }
            Some(proto::load_profile::Model::Closed(c)) => Model::Closed {
                users: c.users,
                spawn_rate: c.spawn_rate.max(0.0),
            },
            None => Model::Closed {
                users: 0,
                spawn_rate: 0.0,
            },
        };
        let stages = profile
            .stages
            .iter()
            .map(|s| {
                Ok(Stage {
                    duration: secs(s.duration_s, "stage duration")?,
                    target: s.target.max(0.0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let threads = if plan.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            plan.threads as usize
        };
        let positive = |v: f64, what: &str| -> Result<Option<Duration>> {
            if v > 0.0 {
                Ok(Some(secs(v, what)?))
            } else {
                Ok(None)
            }
        };
        Ok(Self {
            classes,
            model,
            stages,
            run_time: positive(profile.run_time_s, "run time")?,
            iterations: profile.iterations,
            connect_timeout: positive(plan.connect_timeout_s, "connect timeout")?
                .unwrap_or(Duration::from_secs(10)),
            request_timeout: positive(plan.request_timeout_s, "request timeout")?,
            connection_per_request: plan.connection_per_request,
            h2_connections: match plan.h2_connections {
                0 => DEFAULT_H2_CONNECTIONS,
                n if n <= MAX_H2_CONNECTIONS => n as usize,
                n => {
                    return Err(Error::Plan(format!(
                        "h2_connections must be 1..{MAX_H2_CONNECTIONS}, got {n}"
                    )))
                }
            },
            threads,
            correct_pacing: plan.correct_pacing,
            tls_insecure: plan.tls_insecure,
            tls_ca_pem: plan.tls_ca_pem.clone(),
            stop_timeout: positive(plan.stop_timeout_s, "stop timeout")?
                .unwrap_or(Duration::from_secs(5)),
            encode,
        })
    }
}

fn compile_class(
    index: u32,
    uc: &proto::UserClass,
    targets: &TargetTable,
    endpoints: &EndpointTable,
    encode: EncodeOptions,
) -> Result<UserClass> {
    let compile = |t: &proto::RequestTemplate| template::compile(t, targets, endpoints, encode);
    let mut tasks = Vec::new();
    let mut cumulative = 0u64;
    for task in &uc.tasks {
        match &task.kind {
            Some(proto::task::Kind::Request(r)) => {
                let request = compile(r)?;
                cumulative += u64::from(task.weight.max(1));
                tasks.push(TaskSpec {
                    cumulative,
                    request,
                });
            }
            Some(proto::task::Kind::Python(_)) => {}
            None => {
                return Err(Error::Plan(format!(
                    "user class {:?}: a task has neither a request nor a Python name",
                    uc.name
                )))
            }
        }
    }
    if !uc.python && tasks.is_empty() {
        return Err(Error::Plan(format!(
            "user class {:?} has no tasks",
            uc.name
        )));
    }
    Ok(UserClass {
        index,
        name: uc.name.clone(),
        weight: uc.weight,
        fixed_count: uc.fixed_count,
        wait: WaitTime::compile(uc.wait_time.as_ref())
            .map_err(|e| Error::Plan(format!("user class {:?}: {e}", uc.name)))?,
        tasks,
        on_start: uc.on_start.iter().map(compile).collect::<Result<_>>()?,
        on_stop: uc.on_stop.iter().map(compile).collect::<Result<_>>()?,
        python: uc.python,
    })
}
