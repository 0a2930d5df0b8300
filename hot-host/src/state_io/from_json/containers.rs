//! Containers from JSON: fixed-size arrays, `Vec`s, `Option`s, pools and handles.

use super::*;

impl<'v> ValueBuilder<'v> {
    /// # Safety
    /// `dst` is valid for writes of `shape`, an array of `len` elements of `elem`.
    pub(super) unsafe fn build_array(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        len: usize,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        let too_short = |why: String| ValueError::ArrayTooShort {
            path: ValuePath(self.path.clone()),
            ty: shape_text(shape),
            len,
            found: items.len(),
            why,
        };
        if items.len() > len {
            return Err(ValueError::ArrayTooLong {
                path: self.path(),
                ty: shape_text(shape),
                len,
                found: items.len(),
            });
        }
        let fill = if items.len() < len {
            if self.mode == Mode::Exact {
                return Err(too_short(format!("give all {len}")));
            }
            match DefaultPlan::for_shape(elem) {
                Some(plan) => Some(plan),
                None => {
                    return Err(too_short(format!(
                        "`{}` has no default to fill the rest with; implement `Default` for it or give all {len}",
                        shape_text(elem)
                    )));
                }
            }
        } else {
            None
        };
        for (i, item) in items.iter().enumerate() {
            // SAFETY: element `i < len` of the array at `dst`.
            let at = unsafe { dst.add(i * elem.size) };
            // SAFETY: `at` is valid for writes of an element.
            let built = self.within(Seg::Index(i), |b| unsafe {
                b.shape_from(elem, item, at, saved)
            });
            if let Err(e) = built {
                // SAFETY: elements `..i` were built above and are dropped once.
                unsafe { drop_elements(elem, dst, i) };
                return Err(e);
            }
        }
        if let Some(fill) = fill {
            for i in items.len()..len {
                // SAFETY: element `i < len` of the array at `dst`.
                if let Err(e) = unsafe { write_default(&fill, dst.add(i * elem.size)) } {
                    // SAFETY: elements `..i` were built or filled above and are dropped once.
                    unsafe { drop_elements(elem, dst, i) };
                    return Err(self.within(Seg::Index(i), |b| b.default_panicked(e)));
                }
            }
            self.report.elements_filled += (len - items.len()) as u64;
        }
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of `shape`, a `Vec` of `elem`.
    pub(super) unsafe fn build_vec(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &VecGlue,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        // SAFETY: `dst` is valid for writes of the vector.
        let buf = unsafe { (glue.write_with_capacity)(dst, items.len()) };
        for (i, item) in items.iter().enumerate() {
            // SAFETY: the buffer has room for `items.len()` elements.
            let at = unsafe { buf.add(i * elem.size) };
            // SAFETY: `at` is valid for writes of an element.
            let built = self.within(Seg::Index(i), |b| unsafe {
                b.shape_from(elem, item, at, saved)
            });
            if let Err(e) = built {
                // SAFETY: the first `i` elements are built: the vector takes them over and its
                // drop glue drops them, once, and frees the buffer.
                unsafe {
                    (glue.set_len)(dst, i);
                    (shape.drop)(dst);
                }
                return Err(e);
            }
        }
        // SAFETY: all `items.len()` elements are built, within the capacity.
        unsafe { (glue.set_len)(dst, items.len()) };
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of an `Option` of `elem`.
    pub(super) unsafe fn build_option(
        &mut self,
        elem: &'static Shape,
        glue: &OptionGlue,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        if *json == JsonValue::Null {
            // SAFETY: `dst` is valid for writes of the option.
            unsafe { (glue.write_none)(dst) };
            return Ok(());
        }
        let scratch = Scratch::for_shape(elem);
        // SAFETY: the scratch has the payload's layout.
        unsafe { self.shape_from(elem, json, scratch.ptr(), saved)? };
        // SAFETY: the scratch holds a complete payload, which `write_some` moves into the option;
        // the scratch is then only freed.
        unsafe { (glue.write_some)(dst, scratch.ptr()) };
        Ok(())
    }

    /// # Safety
    /// `dst` is valid for writes of `shape`, a pool of `elem`.
    pub(super) unsafe fn build_pool(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &PoolGlue,
        json: &JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<(), ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected_text(
                format!(
                    "`{}` (an array of `{{\"index\",\"generation\",\"value\"}}` slots)",
                    shape_text(shape)
                ),
                json,
            ));
        };
        let pool_error = |b: &Self, message: String| ValueError::Pool {
            path: b.path(),
            message,
        };
        // The occupied slots, in order.
        let mut occupied: Vec<(usize, u32, &JsonValue)> = Vec::with_capacity(items.len());
        for (k, item) in items.iter().enumerate() {
            let slot = self.within(Seg::Index(k), |b| b.pool_entry(item))?;
            if let Some(&(previous, _, _)) = occupied.last()
                && slot.0 <= previous
            {
                return Err(pool_error(
                    self,
                    format!(
                        "its slots must be in increasing index order, and slot {} comes after slot {previous}",
                        slot.0
                    ),
                ));
            }
            occupied.push(slot);
        }
        let listed: &[(u32, u32)] = match self.vacant {
            Some(vacant) => vacant
                .get(&self.path().to_string())
                .map_or(&[], Vec::as_slice),
            None => &[],
        };
        let mut vacant: BTreeMap<usize, u32> = BTreeMap::new();
        for &(index, generation) in listed {
            let index = index as usize;
            if vacant.insert(index, generation).is_some()
                || occupied.binary_search_by_key(&index, |o| o.0).is_ok()
            {
                return Err(pool_error(
                    self,
                    format!("slot {index} is listed both as occupied and as vacant"),
                ));
            }
        }
        let slots = occupied
            .last()
            .map(|o| o.0 + 1)
            .max(vacant.last_key_value().map(|(&i, _)| i + 1))
            .unwrap_or(0);
        if slots - occupied.len() - vacant.len() > MAX_UNLISTED_VACANT_SLOTS {
            return Err(pool_error(
                self,
                format!(
                    "its slot indices go up to {} with only {} slots given",
                    slots - 1,
                    occupied.len()
                ),
            ));
        }
        // SAFETY: `dst` is valid for writes of the pool.
        unsafe { (glue.write_vacant)(dst, slots) };
        let scratch = Scratch::for_shape(elem);
        let mut next = occupied.iter().peekable();
        for i in 0..slots {
            match next.next_if(|o| o.0 == i) {
                Some(&(_, generation, value)) => {
                    // SAFETY: the scratch has the element's layout.
                    let built = self.within(Seg::Index(i), |b| unsafe {
                        b.shape_from(elem, value, scratch.ptr(), saved)
                    });
                    if let Err(e) = built {
                        // SAFETY: the pool holds slots `..i`, set in order: a valid pool, which
                        // its drop glue drops with the values in it, once.
                        unsafe { (shape.drop)(dst) };
                        return Err(e);
                    }
                    // SAFETY: slots are set in order; the scratch holds a complete value, which
                    // `set_slot` moves into the pool; the scratch is then only freed.
                    unsafe { (glue.set_slot)(dst, i, generation, scratch.ptr()) };
                }
                None => {
                    let generation = vacant.get(&i).copied().unwrap_or(0);
                    // SAFETY: slots are set in order; a null source leaves the slot vacant.
                    unsafe { (glue.set_slot)(dst, i, generation, core::ptr::null_mut()) };
                }
            }
        }
        Ok(())
    }

    /// One occupied slot of a pool: `{"index":i,"generation":g,"value":v}`.
    fn pool_entry<'j>(
        &mut self,
        item: &'j JsonValue,
    ) -> Result<(usize, u32, &'j JsonValue), ValueError> {
        let shape_error = || ValueError::Pool {
            path: self.path(),
            message: format!(
                "its slots are objects `{{\"index\":i,\"generation\":g,\"value\":v}}`, not {}",
                item.kind()
            ),
        };
        let JsonValue::Object(members) = item else {
            return Err(shape_error());
        };
        if members.len() != 3 {
            return Err(shape_error());
        }
        let (Some(index), Some(generation), Some(value)) =
            (item.get("index"), item.get("generation"), item.get("value"))
        else {
            return Err(shape_error());
        };
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index as usize, generation, value))
    }

    fn u32_of(&self, json: &JsonValue) -> Result<u32, ValueError> {
        let mut out = 0u32;
        // SAFETY: `out` is a `u32`, valid for writes.
        unsafe { self.build_prim(Prim::U32, json, (&mut out as *mut u32).cast(), None)? };
        Ok(out)
    }

    /// The index and generation of a handle to `target`: `{"handle":"T","index":i,"generation":g}`.
    pub(super) fn handle_parts(
        &mut self,
        target: &TypeDesc,
        json: &JsonValue,
    ) -> Result<(u32, u32), ValueError> {
        let expected = format!(
            "`Handle<{0}>` (`{{\"handle\":\"{0}\",\"index\":i,\"generation\":g}}`)",
            target.name
        );
        let (
            JsonValue::Object(members),
            Some(JsonValue::String(name)),
            Some(index),
            Some(generation),
        ) = (
            json,
            json.get("handle"),
            json.get("index"),
            json.get("generation"),
        )
        else {
            return Err(self.expected_text(expected, json));
        };
        if members.len() != 3 {
            return Err(self.expected_text(expected, json));
        }
        if !target.answers_to(name) {
            return Err(ValueError::HandleTarget {
                path: self.path(),
                expected: target.name.to_owned(),
                found: name.clone(),
            });
        }
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index, generation))
    }
}
