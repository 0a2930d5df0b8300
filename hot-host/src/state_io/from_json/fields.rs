//! Structs and enums from JSON: which member of the JSON each field takes (by name, then
//! `rename_from`), defaults for the fields it lacks, and the variant an enum's JSON names.

use super::*;

impl<'v> ValueBuilder<'v> {
    /// # Safety
    /// `dst` is valid for writes of the enum `desc`.
    pub(super) unsafe fn build_enum(
        &mut self,
        desc: &'static TypeDesc,
        e: &'static EnumDesc,
        json: &JsonValue,
        dst: *mut u8,
        saved: Option<&'v TypeLayout>,
    ) -> Result<(), ValueError> {
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
                        desc.name,
                        list(&variant_names(e))
                    ),
                    other,
                ));
            }
        };
        let index = e.variants.iter().position(|v| v.name == tag).or_else(|| {
            (self.mode == Mode::Migrate)
                .then(|| {
                    e.variants
                        .iter()
                        .position(|v| v.rename_from.contains(&tag.as_str()))
                })
                .flatten()
        });
        let Some(index) = index else {
            return Err(ValueError::UnknownVariant {
                path: self.path(),
                ty: desc.name.to_owned(),
                variant: tag.clone(),
                variants: variant_names(e),
            });
        };
        let variant = &e.variants[index];
        if variant.name != tag {
            self.report
                .entry(desc.name)
                .renamed
                .insert((tag.clone(), variant.name.to_owned()));
        }
        let saved = match saved.map(|t| &t.kind) {
            Some(LayoutKind::Enum { variants, .. }) => variants
                .iter()
                .find(|v| v.name == *tag)
                .map(|v| v.fields.as_slice()),
            _ => None,
        };
        let (layout, offsets) = coo_runtime::storage::scratch::variant_layout(variant.fields);
        let scratch = Scratch::new(layout);
        let dsts: Vec<*mut u8> = offsets
            .iter()
            // SAFETY: the offsets lie inside the scratch layout.
            .map(|&o| unsafe { scratch.ptr().add(o) })
            .collect();
        self.within(Seg::Name(tag.clone()), |b| {
            // SAFETY: one address per field of the variant, each valid for writes of its field.
            unsafe {
                let of = FieldsOf {
                    desc,
                    variant: Some(variant.name),
                    style: variant.style,
                    fields: variant.fields,
                    saved,
                };
                b.build_fields(&of, content, &dsts)
            }
        })?;
        // SAFETY: every field of the variant is built at `dsts`; `write` moves them into the enum
        // at `dst`, and the scratch is then only freed.
        unsafe { (e.write)(dst, index, dsts.as_ptr()) };
        Ok(())
    }

    /// Builds the fields of a struct or variant from the members of `json` (`None`: a variant
    /// written as its bare name, which has no members). On error, nothing is left at `dsts`.
    ///
    /// # Safety
    /// `dsts` has one address per field, each valid for writes of that field.
    pub(super) unsafe fn build_fields(
        &mut self,
        of: &FieldsOf<'v>,
        json: Option<&JsonValue>,
        dsts: &[*mut u8],
    ) -> Result<(), ValueError> {
        // Matching members to fields and checking them is out of line, so that the frames of
        // this function, which a deep value nests once per level, stay small.
        let (members, sources, defaults) = self.match_fields(of, json)?;
        let FieldsOf {
            desc,
            variant,
            fields,
            saved,
            ..
        } = *of;
        let report_name = |name: &str| match variant {
            Some(v) => format!("{v}.{name}"),
            None => name.to_owned(),
        };
        for (i, field) in fields.iter().enumerate() {
            let result = match (sources[i], &defaults[i]) {
                (Some(m), _) => {
                    let (key, value) = &members[m];
                    let shape = (field.shape)();
                    let saved = saved
                        .and_then(|fields| fields.iter().find(|f| f.name == *key))
                        .map(|f| &f.ty);
                    // SAFETY: `dsts[i]` is valid for writes of the field (caller's contract).
                    self.within(Seg::Name(key.to_string()), |b| unsafe {
                        b.shape_from(shape, value, dsts[i], saved)
                    })
                }
                (None, Some(plan)) => {
                    // SAFETY: as above.
                    let written = unsafe { write_default(plan, dsts[i]) };
                    match written {
                        Ok(()) => {
                            self.report
                                .entry(desc.name)
                                .added
                                .insert(report_name(field.name));
                            Ok(())
                        }
                        Err(e) => Err(self
                            .within(Seg::Name(field.name.to_owned()), |b| b.default_panicked(e))),
                    }
                }
                (None, None) => unreachable!("every field has a source or a default plan"),
            };
            if let Err(e) = result {
                // SAFETY: the fields `..i` were built above and are dropped once.
                unsafe { drop_fields(&fields[..i], &dsts[..i]) };
                return Err(e);
            }
        }
        Ok(())
    }

    /// Which member of the JSON each field of [`ValueBuilder::build_fields`] takes, or the default
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
            Some(v) => format!("{}::{v}", desc.name),
            None => desc.name.to_owned(),
        };
        let report_name = |name: &str| match variant {
            Some(v) => format!("{v}.{name}"),
            None => name.to_owned(),
        };
        let members = match json {
            None => Vec::new(),
            Some(json) => self.members(style, fields.len(), json, &ty_text)?,
        };
        let field_names = || fields.iter().map(|f| f.name.to_owned()).collect::<Vec<_>>();
        // Which member each field takes: its own name first, so a `rename_from` never steals a
        // member a field is named after; then (migrating) its `rename_from` names in order.
        let mut taken = vec![false; members.len()];
        let mut sources: Vec<Option<usize>> = fields
            .iter()
            .map(|f| {
                let source = members.iter().position(|(k, _)| k == f.name);
                if let Some(m) = source {
                    taken[m] = true;
                }
                source
            })
            .collect();
        if self.mode == Mode::Migrate {
            for (field, source) in fields.iter().zip(&mut sources) {
                if source.is_some() {
                    continue;
                }
                *source = field.rename_from.iter().find_map(|r| {
                    members
                        .iter()
                        .enumerate()
                        .position(|(m, (k, _))| k == r && !taken[m])
                });
                if let Some(m) = *source {
                    taken[m] = true;
                    self.report
                        .entry(desc.name)
                        .renamed
                        .insert((report_name(&members[m].0), report_name(field.name)));
                }
            }
        }
        // Check before building anything: what the JSON has too much, and fields it lacks.
        for (m, (key, _)) in members.iter().enumerate() {
            if taken[m] {
                continue;
            }
            match self.mode {
                Mode::Migrate => {
                    self.report
                        .entry(desc.name)
                        .dropped
                        .insert(report_name(key));
                }
                Mode::Exact => {
                    return Err(ValueError::UnknownField {
                        path: self.path(),
                        ty: ty_text,
                        field: key.to_string(),
                        fields: field_names(),
                    });
                }
            }
        }
        let mut defaults: Vec<Option<DefaultPlan>> = Vec::with_capacity(fields.len());
        for (field, source) in fields.iter().zip(&sources) {
            if source.is_some() {
                defaults.push(None);
                continue;
            }
            if self.mode == Mode::Exact {
                return Err(ValueError::FieldNotGiven {
                    path: self.path(),
                    ty: ty_text,
                    field: field.name.to_owned(),
                    fields: field_names(),
                });
            }
            let shape = (field.shape)();
            let plan = field
                .default
                .map(DefaultPlan::Write)
                .or_else(|| DefaultPlan::for_shape(shape));
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
                return Err(ValueError::MissingField {
                    path: self.path(),
                    ty: ty_text,
                    field: field.name.to_owned(),
                    field_ty: field_ty.clone(),
                    fix: format!(
                        "add `#[coo(default = ...)]` to field `{}`, implement `Default` for `{field_ty}`{rename}",
                        field.name
                    ),
                });
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
    e.variants.iter().map(|v| v.name.to_owned()).collect()
}
