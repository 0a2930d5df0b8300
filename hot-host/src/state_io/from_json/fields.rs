//! Structs and enums from JSON: which member of the JSON each field takes (by name, then
//! `rename_from`), defaults for the fields it lacks, and the variant an enum's JSON names. The
//! fields of a struct or variant are a frame on the builder's work stack while they are built
//! (see [`ValueBuilder::run`]).

use super::*;

/// The fields of a struct or variant being built, in order.
pub(super) struct FieldsFrame<'j, 'v> {
    desc: &'static TypeDesc,
    /// The variant, for a variant's fields.
    variant: Option<&'static str>,
    fields: &'static [FieldDesc],
    /// The fields as saved, when known.
    saved: Option<&'v [FieldLayout]>,
    /// Where each field's value comes from.
    sources: Vec<FieldSource<'j>>,
    /// Where each field goes.
    dsts: Vec<*mut u8>,
    /// The field being built; those before it are built.
    next: usize,
    /// What completes the value once every field is built.
    then: Then,
}

/// Where a field's value comes from: a member of the JSON, or the field's default.
enum FieldSource<'j> {
    Member(Cow<'j, str>, &'j JsonValue),
    Default(DefaultPlan<'static>),
}

/// What completes a value once its fields are built.
enum Then {
    /// A struct's fields are built in place: nothing.
    Struct,
    /// A `#[repr(packed)]` struct's fields, which may be unaligned in place, are built aligned
    /// in `scratch` (at `dsts`) and then copied as bytes to their places in the struct at `dst`
    /// (they own nothing: fields of packed structs have no drop glue).
    Packed {
        fields: &'static [FieldDesc],
        /// The memory the fields are built in (what `dsts` point into), freed with the frame.
        _scratch: Scratch,
        dst: *mut u8,
    },
    /// A variant's fields are built in `scratch`; `write` moves them into the enum at `dst`.
    /// The variant's name was pushed on the path while its fields are built.
    Variant {
        e: &'static EnumDesc,
        index: usize,
        /// The memory the fields are built in (what `dsts` point into), freed with the frame.
        _scratch: Scratch,
        dst: *mut u8,
    },
}

impl<'v> ValueBuilder<'v> {
    /// Opens the frame of the fields of a value of `desc` (a struct's, or the variant an enum's
    /// JSON names) at `dst`, after matching the JSON's members to them.
    ///
    /// # Safety
    /// `dst` is valid for writes of `desc`.
    pub(super) unsafe fn open_type<'j>(
        &mut self,
        desc: &'static TypeDesc,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let e = match desc.kind() {
            TypeKind::Struct(s) if s.packing().is_some() => {
                let (layout, offsets) = coo_runtime::storage::scratch::variant_layout(s.fields());
                let scratch = Scratch::new(layout);
                let dsts: Vec<*mut u8> = offsets
                    .iter()
                    // SAFETY: the offsets lie inside the scratch layout.
                    .map(|&o| unsafe { scratch.ptr().add(o) })
                    .collect();
                let saved = match saved.map(|t| &t.kind) {
                    Some(LayoutKind::Struct { fields, .. }) => Some(fields.as_slice()),
                    _ => None,
                };
                let of = FieldsOf {
                    desc,
                    variant: None,
                    style: s.style(),
                    fields: s.fields(),
                    saved,
                };
                let then = Then::Packed {
                    fields: s.fields(),
                    _scratch: scratch,
                    dst,
                };
                return self.open_fields(&of, Some(json), dsts, then);
            }
            TypeKind::Struct(s) => {
                let dsts: Vec<*mut u8> = s
                    .fields()
                    .iter()
                    // SAFETY: the offsets come from `offset_of!` on this type, so each field
                    // lies inside the value at `dst`.
                    .map(|f| unsafe { dst.add(f.offset()) })
                    .collect();
                let saved = match saved.map(|t| &t.kind) {
                    Some(LayoutKind::Struct { fields, .. }) => Some(fields.as_slice()),
                    _ => None,
                };
                let of = FieldsOf {
                    desc,
                    variant: None,
                    style: s.style(),
                    fields: s.fields(),
                    saved,
                };
                return self.open_fields(&of, Some(json), dsts, Then::Struct);
            }
            TypeKind::Enum(e) => e,
        };
        let (tag, content) = match json {
            JsonValue::String(tag) => (tag, None),
            JsonValue::Object(members) if members.len() == 1 => {
                (&members[0].0, Some(&members[0].1))
            }
            other => {
                return Err(self.expected_text(
                    format!(
                        "`{}` (a variant's name, or an object of one member from a variant's name to its fields; \
                         its variants are {})",
                        desc.name(),
                        list(&variant_names(e))
                    ),
                    other,
                ));
            }
        };
        let index = match self.mode {
            Mode::Migrate => {
                matching::successor(ItemKind::Variant, tag, e.variants()).map_err(|conflict| {
                    ValueError::at(self.path(), ValueErrorKind::Conflict { conflict })
                })?
            }
            Mode::Exact => e.variants().iter().position(|v| v.name() == tag),
        };
        let Some(index) = index else {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::UnknownVariant {
                    ty: desc.name().to_owned(),
                    variant: tag.clone(),
                    variants: variant_names(e),
                },
            ));
        };
        let variant = &e.variants()[index];
        if variant.name() != tag {
            self.report
                .entry(desc.name())
                .renamed
                .insert((tag.clone(), variant.name().to_owned()));
        }
        let saved = match saved.map(|t| &t.kind) {
            Some(LayoutKind::Enum { variants, .. }) => variants
                .iter()
                .find(|v| v.name == *tag)
                .map(|v| v.fields.as_slice()),
            _ => None,
        };
        let (layout, offsets) = coo_runtime::storage::scratch::variant_layout(variant.fields());
        let scratch = Scratch::new(layout);
        let dsts: Vec<*mut u8> = offsets
            .iter()
            // SAFETY: the offsets lie inside the scratch layout.
            .map(|&o| unsafe { scratch.ptr().add(o) })
            .collect();
        let of = FieldsOf {
            desc,
            variant: Some(variant.name()),
            style: variant.style(),
            fields: variant.fields(),
            saved,
        };
        let then = Then::Variant {
            e,
            index,
            _scratch: scratch,
            dst,
        };
        // The variant's fields are built inside the variant's name, which the frame pops.
        self.path.push(Seg::Name(tag.clone()));
        let opened = self.open_fields(&of, content, dsts, then);
        if opened.is_err() {
            self.path.pop();
        }
        opened
    }

    /// Matches the members of `json` (`None`: a variant written as its bare name, which has no
    /// members) to the fields of `of`, and opens the frame that builds them at `dsts`.
    fn open_fields<'j>(
        &mut self,
        of: &FieldsOf<'v>,
        json: Option<&'j JsonValue>,
        dsts: Vec<*mut u8>,
        then: Then,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let (members, sources, mut defaults) = self.match_fields(of, json)?;
        let sources = sources
            .iter()
            .zip(&mut defaults)
            .map(|(source, default)| match (source, default.take()) {
                (Some(m), _) => FieldSource::Member(members[*m].0.clone(), members[*m].1),
                (None, Some(plan)) => FieldSource::Default(plan),
                (None, None) => unreachable!("every field has a source or a default plan"),
            })
            .collect();
        Ok(Some(Frame::Fields(Box::new(FieldsFrame {
            desc: of.desc,
            variant: of.variant,
            fields: of.fields,
            saved: of.saved,
            sources,
            dsts,
            next: 0,
            then,
        }))))
    }

    /// Builds the fields of `frame` in order: a member's value as a part asked of
    /// [`ValueBuilder::run`], a default at once. On error, the fields built are dropped and
    /// nothing is left at the destination.
    ///
    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dsts` has one address per field, each valid for
    /// writes of that field, the fields before `frame.next` built.
    pub(super) unsafe fn resume_fields<'j>(
        &mut self,
        frame: &mut FieldsFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        let FieldsFrame {
            desc,
            variant,
            fields,
            saved,
            ..
        } = *frame;
        let mut result = Ok(());
        match last {
            None => {}
            Some(Ok(())) => frame.next += 1,
            Some(Err(e)) => result = Err(e),
        }
        while result.is_ok()
            && let Some(field) = fields.get(frame.next)
        {
            let i = frame.next;
            match &frame.sources[i] {
                FieldSource::Member(key, value) => {
                    let shape = field.shape();
                    let saved = saved
                        .and_then(|fields| fields.iter().find(|f| f.name == *key))
                        .map(|f| &f.ty);
                    let task = Task::of_shape(shape, value, frame.dsts[i], saved);
                    return Ok(Some((task, Some(Seg::Name(key.to_string())))));
                }
                FieldSource::Default(plan) => {
                    // SAFETY: `dsts[i]` is valid for writes of the field (this function's
                    // contract).
                    match unsafe { write_default(plan, frame.dsts[i]) } {
                        Ok(()) => {
                            let name = match variant {
                                Some(v) => format!("{v}.{}", field.name()),
                                None => field.name().to_owned(),
                            };
                            self.report.entry(desc.name()).added.insert(name);
                            frame.next += 1;
                        }
                        Err(e) => {
                            result = Err(self.within(Seg::Name(field.name().to_owned()), |b| {
                                b.default_panicked(e)
                            }));
                        }
                    }
                }
            }
        }
        if let Err(e) = result {
            // SAFETY: the fields `..next` were built and are dropped once.
            unsafe { drop_fields(&fields[..frame.next], &frame.dsts[..frame.next]) };
            if let Then::Variant { .. } = frame.then {
                self.path.pop();
            }
            return Err(e);
        }
        if let Then::Variant { e, index, dst, .. } = frame.then {
            // SAFETY: every field of the variant is built at `dsts`; `write` moves them into the
            // enum at `dst`, and the scratch is then only freed, when the frame is dropped.
            unsafe { e.write(dst, index, frame.dsts.as_ptr()) };
            self.path.pop();
        }
        if let Then::Packed { fields, dst, .. } = frame.then {
            for (f, &built) in fields.iter().zip(&frame.dsts) {
                // SAFETY: every field is built at `dsts`; its bytes move to its place in the
                // packed struct at `dst` (valid for writes of it), unaligned; the scratch is
                // then only freed.
                unsafe {
                    core::ptr::copy_nonoverlapping(built, dst.add(f.offset()), f.shape().size())
                };
            }
        }
        self.report.entry(desc.name()).values += 1;
        Ok(None)
    }

    /// Which member of the JSON each field of a struct or variant takes, or the default
    /// plan of a field that takes none; an error when the JSON has a member too much or lacks a
    /// field (`Exact`), or a field it lacks has no default.
    #[inline(never)]
    fn match_fields<'j>(
        &mut self,
        of: &FieldsOf<'v>,
        json: Option<&'j JsonValue>,
    ) -> Result<Matched<'j>, ValueError> {
        let FieldsOf {
            desc,
            variant,
            style,
            fields,
            ..
        } = *of;
        let ty_text = match variant {
            Some(v) => format!("{}::{v}", desc.name()),
            None => desc.name().to_owned(),
        };
        let report_name = |name: &str| match variant {
            Some(v) => format!("{v}.{name}"),
            None => name.to_owned(),
        };
        let members = match json {
            None => Vec::new(),
            Some(json) => self.members(style, fields.len(), json, &ty_text)?,
        };
        let field_names = || {
            fields
                .iter()
                .map(|f| f.name().to_owned())
                .collect::<Vec<_>>()
        };
        // Which member each field takes: as a reload matches fields (`coo_runtime`'s
        // `matching`), by name only for `Exact`.
        let member_names: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
        let renames = match self.mode {
            Mode::Migrate => Renames::Follow,
            Mode::Exact => Renames::Ignore,
        };
        let matched = match_items(&member_names, fields, renames);
        if let Some(c) = matched.conflicts.first() {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::Conflict {
                    conflict: MatchConflict::new(ItemKind::Field, &member_names, fields, c),
                },
            ));
        }
        let mut taken = vec![true; members.len()];
        for &m in &matched.removed {
            taken[m] = false;
        }
        for (field, source) in fields.iter().zip(&matched.sources) {
            if let Some(Source::Renamed(m)) = *source {
                self.report
                    .entry(desc.name())
                    .renamed
                    .insert((report_name(&members[m].0), report_name(field.name())));
            }
        }
        let sources: Vec<Option<usize>> = (0..fields.len()).map(|n| matched.source(n)).collect();
        // Check before building anything: what the JSON has too much, and fields it lacks.
        for (m, (key, _)) in members.iter().enumerate() {
            if taken[m] {
                continue;
            }
            match self.mode {
                Mode::Migrate => {
                    self.report
                        .entry(desc.name())
                        .dropped
                        .insert(report_name(key));
                }
                Mode::Exact => {
                    return Err(ValueError::at(
                        self.path(),
                        ValueErrorKind::UnknownField {
                            ty: ty_text,
                            field: key.to_string(),
                            fields: field_names(),
                        },
                    ));
                }
            }
        }
        let mut defaults: Vec<Option<DefaultPlan<'static>>> = Vec::with_capacity(fields.len());
        for (field, source) in fields.iter().zip(&sources) {
            if source.is_some() {
                defaults.push(None);
                continue;
            }
            if self.mode == Mode::Exact {
                return Err(ValueError::at(
                    self.path(),
                    ValueErrorKind::FieldNotGiven {
                        ty: ty_text,
                        field: field.name().to_owned(),
                        fields: field_names(),
                    },
                ));
            }
            let shape = field.shape();
            let plan = DefaultPlan::for_field(field);
            let Some(plan) = plan else {
                let field_ty = shape_text(shape);
                let spare: Vec<String> = members
                    .iter()
                    .enumerate()
                    .filter(|&(m, _)| !taken[m])
                    .map(|(_, (k, _))| k.to_string())
                    .collect();
                let rename = if spare.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or `#[coo(rename_from = \"...\")]` if it continues one of {}",
                        list(&spare)
                    )
                };
                return Err(ValueError::at(
                    self.path(),
                    ValueErrorKind::MissingField {
                        ty: ty_text,
                        field: field.name().to_owned(),
                        field_ty: field_ty.clone(),
                        fix: format!(
                            "add `#[coo(default = ...)]` to field `{}`, implement `Default` for `{field_ty}`{rename}",
                            field.name()
                        ),
                    },
                ));
            };
            defaults.push(Some(plan));
        }
        Ok((members, sources, defaults))
    }

    /// The members of the JSON of a struct or variant, named as its fields are: by key for
    /// named fields, `0`, `1`, … for tuple fields, `0` for a newtype's one field.
    fn members<'j>(
        &self,
        style: FieldsStyle,
        field_count: usize,
        json: &'j JsonValue,
        ty_text: &str,
    ) -> Result<Vec<(Cow<'j, str>, &'j JsonValue)>, ValueError> {
        let object = |members: &'j [(String, JsonValue)]| {
            members
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), v))
                .collect::<Vec<_>>()
        };
        let array = |items: &'j [JsonValue]| {
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Cow::Owned(i.to_string()), v))
                .collect::<Vec<_>>()
        };
        Ok(match (style, json) {
            (FieldsStyle::Named, JsonValue::Object(members)) => object(members),
            (FieldsStyle::Named, other) => {
                return Err(
                    self.expected_text(format!("`{ty_text}` (an object of its fields)"), other)
                );
            }
            (FieldsStyle::Tuple, only) if field_count == 1 => vec![(Cow::Borrowed("0"), only)],
            (FieldsStyle::Tuple, JsonValue::Array(items)) => array(items),
            (FieldsStyle::Tuple, other) => {
                return Err(self.expected_text(
                    format!("`{ty_text}` (an array of its {field_count} fields)"),
                    other,
                ));
            }
            (FieldsStyle::Unit, JsonValue::Null) => Vec::new(),
            (FieldsStyle::Unit, JsonValue::Object(members)) if self.mode == Mode::Migrate => {
                object(members)
            }
            (FieldsStyle::Unit, JsonValue::Array(items)) if self.mode == Mode::Migrate => {
                array(items)
            }
            (FieldsStyle::Unit, other) => {
                return Err(self.expected_text(format!("`{ty_text}` (`null`)"), other));
            }
        })
    }
}

fn variant_names(e: &EnumDesc) -> Vec<String> {
    e.variants().iter().map(|v| v.name().to_owned()).collect()
}
