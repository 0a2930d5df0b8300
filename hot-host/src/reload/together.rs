//! One transaction for several plugins: the reload of every plugin that a change to a shared
//! crate affects (see [`Plugins`](crate::embed::Plugins), "Shared crates"), all of them or
//! none.
//!
//! Each member's reload is split as a single host's is ([`Host::prepare`], migrate, commit),
//! and every fallible step is done for all members before anything is committed: their builds
//! (one failed build refuses all), loading and preparing each new version (header check,
//! catalog, migration plan, host types, slot plan), the import checks through the hub with
//! every member's new version at once ([`Hub::check_together`]: a slot between two members is
//! checked against both new versions), and the migration of every member's state into new
//! storage ([`State::migrate_together`]). Only then is everything committed, which cannot
//! fail: the hub's import slots, once for all members ([`Hub::commit_together`]), then each
//! member's state, slots and old image. On the first failure nothing is committed: every member
//! keeps its old code and state; the failed member's result is its own error, every other
//! member's is [`ReloadError::Together`], naming the failed one.

use std::sync::Mutex;

use coo_runtime::State;

use super::imports::Hub;
use super::{CutImport, Host, Prepared, ReloadError, ReloadReport};
use crate::build::{BuildError, BuildOutput};

/// One plugin of a transaction: its name, its host and its finished build.
#[derive(Debug)]
pub(crate) struct Member<'a> {
    pub(crate) name: String,
    pub(crate) host: &'a mut Host,
    pub(crate) build: Result<BuildOutput, BuildError>,
}

/// The outcome of one transaction, by member, in the members' order.
pub(crate) type Outcomes = Vec<(String, Result<ReloadReport, ReloadError>)>;

/// Every member's result when `failed` (its index) failed with `error`.
fn refused(names: &[String], failed: usize, error: ReloadError) -> Outcomes {
    let mut together = names.to_vec();
    together.sort();
    let mut error = Some(error);
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let outcome = match error.take_if(|_| i == failed) {
                Some(error) => error,
                None => ReloadError::Together {
                    failed: names[failed].clone(),
                    together: together.clone(),
                },
            };
            (name.clone(), Err(outcome))
        })
        .collect()
}

/// Reloads every member to its build in one transaction (see the [module docs](self)). The
/// members are plugins of the [`Plugins`](crate::embed::Plugins) whose hub is `hub`.
pub(crate) fn reload_together(members: Vec<Member<'_>>, hub: &Mutex<Hub>) -> Outcomes {
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    let mut hosts = Vec::with_capacity(members.len());
    let mut outputs = Vec::with_capacity(members.len());
    for (i, member) in members.into_iter().enumerate() {
        match member.build {
            Ok(output) => outputs.push(output),
            Err(e) => return refused(&names, i, ReloadError::Build(e)),
        }
        hosts.push(member.host);
    }
    // Load and prepare every new version. On failure, dropping the ones prepared closes their
    // images; nothing else changed.
    let mut prepared: Vec<Prepared> = Vec::with_capacity(hosts.len());
    for (i, (host, output)) in hosts.iter().zip(&outputs).enumerate() {
        match host.prepare_from(&output.dylib, Some(output.duration)) {
            Ok(p) => prepared.push(p),
            Err(e) => return refused(&names, i, e),
        }
    }
    let mut hub = hub.lock().unwrap_or_else(|e| e.into_inner());
    let manifests: Vec<(&str, &coo_runtime::plugin::Manifest)> = names
        .iter()
        .zip(&prepared)
        .map(|(name, p)| (name.as_str(), p.manifest))
        .collect();
    if let Err((i, conflict)) = hub.check_together(&manifests) {
        return refused(&names, i, ReloadError::Import(conflict));
    }
    // The last step that can fail: every state is migrated, or none.
    let migrations = {
        let mut parts: Vec<(&mut State, &coo_runtime::Plan)> = hosts
            .iter_mut()
            .zip(&prepared)
            .map(|(host, p)| (&mut host.state, &p.plan))
            .collect();
        match State::migrate_together(&mut parts) {
            Ok(reports) => reports,
            Err((i, e)) => return refused(&names, i, ReloadError::Migrate(e)),
        }
    };

    // Commit: nothing below can fail. The import slots of every member first (before any old
    // image is released: each member's old image goes at its own commit below).
    let entered: Vec<_> = names
        .iter()
        .zip(&prepared)
        .map(|(name, p)| (name.as_str(), p.manifest, &p.image))
        .collect();
    let mut cut = hub.commit_together(&entered);
    drop(hub);
    let mut sorted = names.clone();
    sorted.sort();
    hosts
        .into_iter()
        .zip(prepared)
        .zip(migrations)
        .zip(&names)
        .map(|(((host, prepared), migration), name)| {
            // Each cut slot is reported by the member that provided the function.
            let (own, rest): (Vec<CutImport>, Vec<CutImport>) =
                cut.drain(..).partition(|c| &c.provider == name);
            cut = rest;
            let mut report = host.commit(prepared, migration, Some(own));
            report.together = sorted.iter().filter(|n| *n != name).cloned().collect();
            (name.clone(), Ok(report))
        })
        .collect()
}
