//! Tuples and the standard collections from JSON: a tuple is the array of its elements; a
//! `VecDeque` or set the array of its elements; a map an object from its keys (strings, `char`s,
//! integers or `bool`s, written as serde_json writes them: `{"3": ..}`) or an array of
//! `[key, value]` pairs (any key type). Each is a frame on the builder's work stack while its
//! parts are built (see [`ValueBuilder::run`]); a collection's entries are built in scratch
//! memory and moved in by the current build's `insert`, which hashes and orders them.

use coo_runtime::descriptors::layout::{CollGlue, TupleElem};

use super::*;

/// A tuple whose elements are being built in place.
pub(super) struct TupleFrame<'j, 'v> {
    shape: &'static Shape,
    elems: &'static [TupleElem],
    items: &'j [JsonValue],
    /// The element being built; those before it are built.
    next: usize,
    dst: *mut u8,
    saved: Option<&'v [TyLayout]>,
}

/// Where an entry's key comes from: a JSON value, or an object's member name.
#[derive(Clone, Copy)]
enum KeyJson<'j> {
    Json(&'j JsonValue),
    Member(&'j str),
}

/// A collection whose entries are being built. Each entry has the parts key, value (maps
/// only) and insert; `next` is the part being built, those before it are done.
pub(super) struct CollFrame<'j, 'v> {
    shape: &'static Shape,
    key: &'static Shape,
    value: Option<&'static Shape>,
    glue: &'static CollGlue,
    entries: Vec<(KeyJson<'j>, Option<&'j JsonValue>)>,
    next: usize,
    /// A new key, then (maps) a new value at `value_at`.
    scratch: Scratch,
    value_at: usize,
    dst: *mut u8,
    saved_key: Saved<'v>,
    saved_value: Saved<'v>,
}

impl CollFrame<'_, '_> {
    fn parts(&self) -> usize {
        2 + usize::from(self.value.is_some())
    }

    fn value_ptr(&self) -> *mut u8 {
        // SAFETY: the offset lies inside the scratch's layout.
        unsafe { self.scratch.ptr().add(self.value_at) }
    }

    /// The path segment of entry `i`.
    fn seg(&self, i: usize) -> Seg {
        match self.entries[i].0 {
            // As a path writes the key: JSON (a member name that is not a number or `bool` is
            // a string, whatever the key type).
            KeyJson::Member(name) => Seg::Key(match self.key.kind() {
                ShapeKind::Prim(p)
                    if *p != Prim::Char
                        && (name.parse::<i128>().is_ok()
                            || name.parse::<u128>().is_ok()
                            || name == "true"
                            || name == "false") =>
                {
                    name.to_owned()
                }
                _ => format!("{name:?}"),
            }),
            KeyJson::Json(_) => Seg::Index(i),
        }
    }

    /// Drops what the frame built, the failed part being `failed`: the key in the scratch when
    /// the value failed, and the collection with the entries inserted so far.
    ///
    /// # Safety
    /// The parts `..failed` are done, and `failed` left nothing.
    unsafe fn give_up(&self, failed: usize) {
        let per = self.parts();
        // SAFETY: the key was built when the entry's value failed; the collection holds the
        // entries inserted so far, each dropped once with it.
        unsafe {
            if per == 3 && failed % per == 1 {
                self.key.drop(self.scratch.ptr());
            }
            self.shape.drop(self.dst);
        }
    }
}

impl<'v> ValueBuilder<'v> {
    /// Checks a tuple's JSON and opens its frame.
    pub(super) fn open_tuple<'j>(
        &mut self,
        shape: &'static Shape,
        elems: &'static [TupleElem],
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        let len = elems.len();
        if items.len() > len {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::ArrayTooLong {
                    ty: shape_text(shape),
                    len,
                    found: items.len(),
                },
            ));
        }
        if items.len() < len && self.mode == Mode::Exact {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::ArrayTooShort {
                    ty: shape_text(shape),
                    len,
                    found: items.len(),
                    why: format!("give all {len} elements"),
                },
            ));
        }
        let saved = match saved {
            Some(TyLayout::Tuple(s)) => Some(s.as_slice()),
            _ => None,
        };
        Ok(Some(Frame::Tuple(TupleFrame {
            shape,
            elems,
            items,
            next: 0,
            dst,
            saved,
        })))
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` is valid for writes of the tuple.
    pub(super) unsafe fn resume_tuple<'j>(
        &mut self,
        frame: &mut TupleFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        let drop_built = |elems: &[TupleElem], dst: *mut u8, n: usize| {
            for e in &elems[..n] {
                // SAFETY: the elements `..n` were built and are dropped once.
                unsafe { e.shape().drop(dst.add(e.offset())) }
            }
        };
        match last {
            None => {}
            Some(Ok(())) => frame.next += 1,
            Some(Err(e)) => {
                drop_built(frame.elems, frame.dst, frame.next);
                return Err(e);
            }
        }
        let i = frame.next;
        if let Some(item) = frame.items.get(i) {
            let e = &frame.elems[i];
            let saved = frame.saved.and_then(|s| s.get(i));
            // SAFETY: element `i` lies at its offset in the tuple at `dst`.
            let at = unsafe { frame.dst.add(e.offset()) };
            return Ok(Some((
                Task::of_shape(e.shape(), item, at, saved),
                Some(Seg::Name(i.to_string())),
            )));
        }
        // Elements the JSON lacks (an older, shorter tuple) take their default.
        for j in frame.items.len()..frame.elems.len() {
            let e = &frame.elems[j];
            let Some(plan) = DefaultPlan::for_shape(e.shape()) else {
                drop_built(frame.elems, frame.dst, j);
                return Err(ValueError::at(
                    self.path(),
                    ValueErrorKind::ArrayTooShort {
                        ty: shape_text(frame.shape),
                        len: frame.elems.len(),
                        found: frame.items.len(),
                        why: format!(
                            "`{}` has no default to fill the rest with; implement `Default` for it or give all {}",
                            shape_text(e.shape()),
                            frame.elems.len()
                        ),
                    },
                ));
            };
            // SAFETY: element `j` lies at its offset in the tuple at `dst`.
            if let Err(panicked) = unsafe { write_default(&plan, frame.dst.add(e.offset())) } {
                drop_built(frame.elems, frame.dst, j);
                return Err(self.within(Seg::Name(j.to_string()), |b| b.default_panicked(panicked)));
            }
            self.report.elements_filled += 1;
        }
        Ok(None)
    }

    /// Reads a collection's entries from its JSON, writes an empty collection at `dst` and
    /// opens its frame.
    ///
    /// # Safety
    /// `dst` is valid for writes of `shape`, a collection.
    pub(super) unsafe fn open_coll<'j>(
        &mut self,
        shape: &'static Shape,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let ShapeKind::Coll {
            kind,
            key,
            value,
            glue,
        } = &shape.kind()
        else {
            unreachable!("called for collections")
        };
        let (key, value) = (key.get(), value.as_ref().map(|v| v.get()));
        let pairs = "an array of `[key, value]` pairs, or an object from its keys";
        let entries: Vec<(KeyJson<'j>, Option<&'j JsonValue>)> = match (kind.is_map(), json) {
            (false, JsonValue::Array(items)) => {
                items.iter().map(|j| (KeyJson::Json(j), None)).collect()
            }
            (true, JsonValue::Object(members)) => members
                .iter()
                .map(|(name, v)| (KeyJson::Member(name.as_str()), Some(v)))
                .collect(),
            (true, JsonValue::Array(items)) => {
                let mut entries = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        JsonValue::Array(pair) if pair.len() == 2 => {
                            entries.push((KeyJson::Json(&pair[0]), Some(&pair[1])))
                        }
                        other => {
                            return Err(self.within(Seg::Index(i), |b| {
                                b.expected_text("a `[key, value]` pair", other)
                            }));
                        }
                    }
                }
                entries
            }
            (true, other) => {
                return Err(self.expected_text(format!("`{}` ({pairs})", shape_text(shape)), other));
            }
            (false, other) => return Err(self.expected(shape, other)),
        };
        let (saved_key, saved_value) = match saved {
            Some(TyLayout::Coll(_, k, v)) => (Some(&**k), v.as_deref()),
            _ => (None, None),
        };
        let key_layout = std::alloc::Layout::from_size_align(key.size(), key.align())
            .expect("a Rust type's layout");
        let (layout, value_at) = match value {
            Some(v) => key_layout
                .extend(
                    std::alloc::Layout::from_size_align(v.size(), v.align())
                        .expect("a Rust type's layout"),
                )
                .expect("a Rust type's layout"),
            None => (key_layout, 0),
        };
        // SAFETY: `dst` is valid for writes of the collection.
        unsafe { glue.write_with_capacity(dst, entries.len()) };
        Ok(Some(Frame::Coll(Box::new(CollFrame {
            shape,
            key,
            value,
            glue,
            entries,
            next: 0,
            scratch: Scratch::new(layout),
            value_at,
            dst,
            saved_key,
            saved_value,
        }))))
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` holds the collection being built.
    pub(super) unsafe fn resume_coll<'j>(
        &mut self,
        frame: &mut CollFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        match last {
            None => {}
            Some(Ok(())) => frame.next += 1,
            Some(Err(e)) => {
                // SAFETY: the part `next` failed and left nothing.
                unsafe { frame.give_up(frame.next) };
                return Err(e);
            }
        }
        let per = frame.parts();
        loop {
            let p = frame.next;
            let (i, part) = (p / per, p % per);
            if i == frame.entries.len() {
                return Ok(None);
            }
            let (key_json, value_json) = frame.entries[i];
            if part == per - 1 {
                // SAFETY: the scratch holds the entry's complete key (and value), which
                // `insert` moves out whatever it returns.
                let inserted = unsafe {
                    frame
                        .glue
                        .insert(frame.dst, frame.scratch.ptr(), frame.value_ptr())
                };
                let message = match inserted {
                    Ok(true) => None,
                    Ok(false) => Some("an earlier entry has an equal key".to_owned()),
                    Err(panicked) => {
                        Some(format!("inserting it panicked: {}", panicked.into_string()))
                    }
                };
                if let Some(message) = message {
                    // SAFETY: the insert moved the entry out, leaving nothing.
                    unsafe { frame.give_up(p) };
                    let seg = frame.seg(i);
                    let ty = shape_text(frame.shape);
                    return Err(self.within(seg, |b| {
                        ValueError::at(b.path(), ValueErrorKind::Insert { ty, message })
                    }));
                }
                frame.next += 1;
                continue;
            }
            let seg = Some(frame.seg(i));
            if part == 0 {
                match key_json {
                    KeyJson::Json(json) => {
                        return Ok(Some((
                            Task::of_shape(frame.key, json, frame.scratch.ptr(), frame.saved_key),
                            seg,
                        )));
                    }
                    KeyJson::Member(name) => {
                        let seg = frame.seg(i);
                        // SAFETY: the scratch has room for a key.
                        let built = self.within(seg, |b| unsafe {
                            b.member_key(frame.key, name, frame.scratch.ptr(), frame.saved_key)
                        });
                        if let Err(e) = built {
                            // SAFETY: the key failed and left nothing.
                            unsafe { frame.give_up(p) };
                            return Err(e);
                        }
                        frame.next += 1;
                        continue;
                    }
                }
            }
            let value = frame.value.expect("maps have values");
            return Ok(Some((
                Task::of_shape(
                    value,
                    value_json.expect("maps have values"),
                    frame.value_ptr(),
                    frame.saved_value,
                ),
                seg,
            )));
        }
    }

    /// Builds a map key from an object's member name: a string or `char` as itself, an integer
    /// from its digits, a `bool` from `true` or `false`.
    ///
    /// # Safety
    /// `dst` is valid for writes of `key`.
    unsafe fn member_key(
        &mut self,
        key: &'static Shape,
        name: &str,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        let json = match &key.kind() {
            ShapeKind::Prim(p) if p.is_int() && name.parse::<i128>().is_ok() => {
                JsonValue::Number(name.to_owned())
            }
            ShapeKind::Prim(p) if p.is_int() && name.parse::<u128>().is_ok() => {
                JsonValue::Number(name.to_owned())
            }
            ShapeKind::Prim(Prim::Bool) if name == "true" || name == "false" => {
                JsonValue::Bool(name == "true")
            }
            ShapeKind::Prim(_) | ShapeKind::String(_) => JsonValue::String(name.to_owned()),
            _ => {
                return Err(self.expected_text(
                    format!(
                        "a `{}` key, which JSON cannot spell as a member name (write the map as `[key, value]` pairs)",
                        shape_text(key)
                    ),
                    &JsonValue::String(name.to_owned()),
                ));
            }
        };
        match &key.kind() {
            ShapeKind::String(glue) => {
                // SAFETY: `name` is valid UTF-8 that lives through the call; `dst` is valid for
                // writes of a `String`.
                unsafe { glue.write_from(dst, name.as_ptr(), name.len()) };
                Ok(())
            }
            ShapeKind::Prim(p) => {
                let saved = match saved {
                    Some(TyLayout::Prim(s)) => Some(*s),
                    _ => None,
                };
                // SAFETY: `dst` has room for the primitive.
                unsafe { self.build_prim(*p, &json, dst, saved) }
            }
            _ => unreachable!("refused above"),
        }
    }
}
