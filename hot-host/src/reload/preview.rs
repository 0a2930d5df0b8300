//! What a reload would do, shown without doing it ([`Host::preview`], the REPL's `plan`): the
//! new build is loaded to read its types, planned against the live state, and closed again.

use std::path::Path;

use coo_runtime::Catalog;
use coo_runtime::plugin::panics::this_sink;

use super::{Host, ReloadError, objects};
use crate::build::BuildEvent;

impl Host {
    /// Builds the current source and shows what a reload would do, without doing it: the
    /// migration plan of the live state (or every reason there is none) and the function
    /// changes. The library is loaded to read its types, and closed before this returns (unless
    /// it pins itself, see [`crate::load`]); nothing else changes.
    pub fn preview(&mut self) -> Result<String, ReloadError> {
        self.preview_with(&mut |_| {})
    }

    /// [`Host::preview`], passing what the build tells while it runs to `progress`.
    pub fn preview_with(
        &mut self,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<String, ReloadError> {
        if self.linked {
            return Err(ReloadError::Linked);
        }
        let output = self.builder.build_with(progress)?;
        self.preview_from(&output.dylib)
    }

    /// [`Host::preview`] of an already built library.
    pub fn preview_from(&mut self, dylib: &Path) -> Result<String, ReloadError> {
        if self.linked {
            return Err(ReloadError::Linked);
        }
        let library = self.loader.load(dylib)?;
        let manifest = library.manifest_static();
        manifest.set_drop_sink(this_sink());
        // SAFETY: the manifest's types live in the image `library.image_ref()` guards.
        let catalog =
            unsafe { Catalog::from_image(manifest.types().iter().copied(), library.image_ref()) }?;
        let slot_plan = self.slots.plan(
            manifest.fns(),
            manifest.alternatives(),
            &catalog,
            library.image_ref(),
        );
        let mut text = match self.state.plan(&catalog) {
            Ok(plan) => {
                let mut text = String::new();
                for diff in plan.diffs() {
                    text.push_str(&diff.to_string());
                }
                if text.is_empty() {
                    text.push_str("no layout changes\n");
                }
                text.push_str(&objects::objects_text(
                    &objects::live_objects(&self.state),
                    &objects::impls_in(&catalog),
                ));
                text
            }
            Err(e) => e.to_string(),
        };
        text.push_str(&self.slots.describe(&slot_plan));
        // The checks a reload makes before it migrates anything.
        if let Err(e) = self.check_alone(manifest) {
            text.push_str(&format!("would refuse the reload: {e}\n"));
        }
        Ok(text)
    }
}
