//! The history of one key (SCD type 2), rebuilt from its stored versions and new changes.
//!
//! Pure logic over comparable sequence values `S` and comparable tracked values `V`, so it can
//! be tested without Arrow. New changes are woven in; stored versions may get a new end, new
//! values when a change carries exactly their start, or be removed when a delete does (a delete
//! wins a tie with a change, as in SCD 1).

/// What is known of a key, in any order.
#[derive(Debug, Clone)]
pub enum Event<S, V> {
    /// A version already in the table: `[start, end)` with its values, at table row `row`.
    Stored {
        start: S,
        end: Option<S>,
        values: V,
        row: usize,
    },
    /// The key was deleted at `at` before (a tombstone).
    Tombstone { at: S },
    /// A new change, source row `row`.
    Change { at: S, values: V, row: usize },
    /// A change delivered before whose values equalled the state before it (so it made no
    /// version and was kept aside), source row `row`. It loses a tie with a stored version.
    Echo { at: S, values: V, row: usize },
    /// A new delete.
    Delete { at: S },
}

/// Where an output version's column values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// A stored version (table row).
    Stored(usize),
    /// A new change (source row).
    Change(usize),
}

/// A version to write: insert when `start` is new for the key, else update the stored row
/// with that start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version<S> {
    pub start: S,
    pub end: Option<S>,
    pub from: From,
    /// Whether a stored version with this start exists (update rather than insert).
    pub stored: bool,
    /// Whether the stored version with this start is to be removed.
    pub remove: bool,
}

/// What a rebuild changes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Changes (and stored versions) that make no version because they equal the state before
    /// them: to keep aside, since a change or delete arriving later below them changes that.
    pub unchanged: Vec<From>,
}

#[derive(Debug, Clone)]
enum Point<'a, S, V> {
    Version {
        values: &'a V,
        from: From,
        stored_end: Option<Option<&'a S>>,
        echo: bool,
    },
    Deleted {
        new: bool,
    },
}

/// Rebuilds a key's history and returns the versions to write (unchanged stored versions are
/// left out).
pub fn rebuild<S: Ord + Clone, V: Eq>(events: &[Event<S, V>]) -> (Vec<Version<S>>, Outcome) {
    // 1. Points in sequence order; stored ones first at equal sequence, new ones in arrival order.
    let mut points: Vec<(&S, Point<'_, S, V>)> = Vec::new();
    for event in events {
        if let Event::Stored {
            start,
            end,
            values,
            row,
        } = event
        {
            points.push((
                start,
                Point::Version {
                    values,
                    from: From::Stored(*row),
                    stored_end: Some(end.as_ref()),
                    echo: false,
                },
            ));
        }
    }
    let starts: Vec<&S> = points.iter().map(|(s, _)| *s).collect();
    for event in events {
        match event {
            // A stored version that ends without a successor was closed by a delete.
            Event::Stored { end: Some(end), .. } if !starts.contains(&end) => {
                points.push((end, Point::Deleted { new: false }));
            }
            Event::Tombstone { at } if !starts.contains(&at) => {
                points.push((at, Point::Deleted { new: false }));
            }
            _ => {}
        }
    }
    for event in events {
        match event {
            Event::Change { at, values, row } | Event::Echo { at, values, row } => points.push((
                at,
                Point::Version {
                    values,
                    from: From::Change(*row),
                    stored_end: None,
                    echo: matches!(event, Event::Echo { .. }),
                },
            )),
            Event::Delete { at } => points.push((at, Point::Deleted { new: true })),
            _ => {}
        }
    }
    points.sort_by(|a, b| a.0.cmp(b.0));

    // 2. One point per sequence value: the last delivered wins; a change at a stored start
    //    replaces that version's values; a delete at a stored start follows it.
    let mut merged: Vec<(&S, Point<'_, S, V>)> = Vec::new();
    let mut removed: Vec<Version<S>> = Vec::new();
    for (at, point) in points {
        let Some((last_at, last)) = merged.last_mut().filter(|(last_at, _)| *last_at == at) else {
            merged.push((at, point));
            continue;
        };
        let stored_end = match last {
            Point::Version {
                stored_end: Some(end),
                ..
            } => Some(*end),
            _ => None,
        };
        match (stored_end, point) {
            // A stored version was delivered after any kept-aside change at its start.
            (Some(_), Point::Version { echo: true, .. }) => {}
            (Some(end), Point::Version { values, from, .. }) => {
                *last = Point::Version {
                    values,
                    from,
                    stored_end: Some(end),
                    echo: false,
                };
            }
            // A delete at a stored start removes that version.
            (Some(_), deleted @ Point::Deleted { .. }) => {
                if let Point::Version { from, .. } = last {
                    removed.push(Version {
                        start: (*last_at).clone(),
                        end: None,
                        from: *from,
                        stored: true,
                        remove: true,
                    });
                }
                *last = deleted;
            }
            // A delete wins a tie with a change, whichever arrived first (as in SCD 1).
            (None, Point::Version { .. }) if matches!(last, Point::Deleted { .. }) => {}
            (None, point) => *last = point,
        }
    }

    // 3. Walk: drop changes equal to the state before them and deletes of absent keys.
    let mut kept: Vec<(&S, Point<'_, S, V>)> = Vec::new();
    let mut current: Option<&V> = None;
    let mut outcome = Outcome::default();
    for (at, point) in merged {
        match point {
            // A stored version equal to the state before it (a late change below it carries
            // its values) is no longer a version of its own.
            Point::Version {
                values,
                from,
                stored_end: Some(_),
                ..
            } if current == Some(values) => {
                outcome.updated += 1;
                outcome.unchanged.push(from);
                removed.push(Version {
                    start: at.clone(),
                    end: None,
                    from,
                    stored: true,
                    remove: true,
                });
            }
            Point::Version {
                values,
                stored_end: Some(_),
                ..
            } => {
                current = Some(values);
                kept.push((at, point));
            }
            Point::Version { values, from, .. } => {
                if current == Some(values) {
                    outcome.unchanged.push(from);
                } else {
                    current = Some(values);
                    kept.push((at, point));
                }
            }
            Point::Deleted { new } => {
                let removes = removed.iter().any(|r| &r.start == at);
                if current.is_some() {
                    current = None;
                    outcome.deleted += usize::from(new || removes);
                    kept.push((at, point));
                } else if removes {
                    outcome.deleted += 1;
                }
            }
        }
    }

    // 4. Ends follow from the next kept point; write what differs from the table.
    let mut versions = Vec::new();
    for (i, (at, point)) in kept.iter().enumerate() {
        let Point::Version {
            from, stored_end, ..
        } = point
        else {
            continue;
        };
        let end = kept.get(i + 1).map(|(next, _)| (*next).clone());
        match stored_end {
            Some(stored) => {
                let same_end = stored.cloned() == end;
                if same_end && matches!(from, From::Stored(_)) {
                    continue;
                }
                outcome.updated += 1;
            }
            None => outcome.inserted += 1,
        }
        versions.push(Version {
            start: (*at).clone(),
            end,
            from: *from,
            stored: stored_end.is_some(),
            remove: false,
        });
    }
    versions.extend(removed);
    (versions, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: i32, v: &'static str, row: usize) -> Event<i32, &'static str> {
        Event::Change { at, values: v, row }
    }

    fn stored(
        start: i32,
        end: Option<i32>,
        v: &'static str,
        row: usize,
    ) -> Event<i32, &'static str> {
        Event::Stored {
            start,
            end,
            values: v,
            row,
        }
    }

    fn spans(versions: &[Version<i32>]) -> Vec<(i32, Option<i32>, From)> {
        versions.iter().map(|v| (v.start, v.end, v.from)).collect()
    }

    #[test]
    fn new_changes_make_a_chain_and_equal_values_make_no_version() {
        let (v, o) = rebuild(&[
            change(1, "a", 0),
            change(3, "b", 1),
            change(2, "a", 2),
            change(5, "b", 3),
        ]);
        assert_eq!(
            spans(&v),
            [(1, Some(3), From::Change(0)), (3, None, From::Change(1))]
        );
        assert_eq!(
            o,
            Outcome {
                inserted: 2,
                updated: 0,
                deleted: 0,
                unchanged: vec![From::Change(2), From::Change(3)],
            }
        );
    }

    #[test]
    fn a_change_closes_the_current_stored_version() {
        let (v, o) = rebuild(&[stored(1, None, "a", 7), change(4, "b", 0)]);
        assert_eq!(
            spans(&v),
            [(1, Some(4), From::Stored(7)), (4, None, From::Change(0))]
        );
        assert_eq!(
            o,
            Outcome {
                inserted: 1,
                updated: 1,
                deleted: 0,
                unchanged: vec![],
            }
        );
    }

    #[test]
    fn late_changes_are_woven_into_history() {
        let (v, _) = rebuild(&[
            stored(1, Some(5), "a", 0),
            stored(5, None, "c", 1),
            change(3, "b", 0),
        ]);
        assert_eq!(
            spans(&v),
            [(1, Some(3), From::Stored(0)), (3, Some(5), From::Change(0))]
        );
    }

    #[test]
    fn deletes_close_and_late_older_changes_do_not_reopen() {
        let (v, o) = rebuild(&[
            stored(1, None, "a", 0),
            Event::Delete { at: 4 },
            change(3, "b", 0),
        ]);
        assert_eq!(
            spans(&v),
            [(1, Some(3), From::Stored(0)), (3, Some(4), From::Change(0))]
        );
        assert_eq!(o.deleted, 1);
        // A tombstone with no stored row still blocks an older change from staying open.
        let (v, _) = rebuild(&[Event::Tombstone { at: 9 }, change(3, "b", 0)]);
        assert_eq!(spans(&v), [(3, Some(9), From::Change(0))]);
        // A newer change after a delete re-creates the key.
        let (v, _) = rebuild(&[stored(1, Some(4), "a", 0), change(6, "a", 0)]);
        assert_eq!(spans(&v), [(6, None, From::Change(0))]);
    }

    #[test]
    fn a_change_at_a_stored_start_replaces_its_values() {
        let (v, o) = rebuild(&[stored(1, None, "a", 0), change(1, "z", 5)]);
        assert_eq!(spans(&v), [(1, None, From::Change(5))]);
        assert!(v[0].stored);
        assert_eq!(
            o,
            Outcome {
                inserted: 0,
                updated: 1,
                deleted: 0,
                unchanged: vec![],
            }
        );
    }

    #[test]
    fn unchanged_history_writes_nothing_and_keeps_the_change_aside() {
        let (v, o) = rebuild(&[
            stored(1, Some(2), "a", 0),
            stored(2, None, "b", 1),
            change(3, "b", 0),
        ]);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(
            o,
            Outcome {
                unchanged: vec![From::Change(0)],
                ..Outcome::default()
            }
        );
    }

    #[test]
    fn a_change_kept_aside_becomes_a_version_when_an_older_change_lands_below_it() {
        // Stored "a" from 1; "a" again at 5 was kept aside; "b" arrives at 3.
        let echo = Event::Echo {
            at: 5,
            values: "a",
            row: 0,
        };
        let (v, o) = rebuild(&[stored(1, None, "a", 0), echo, change(3, "b", 1)]);
        assert_eq!(
            spans(&v),
            [
                (1, Some(3), From::Stored(0)),
                (3, Some(5), From::Change(1)),
                (5, None, From::Change(0)),
            ]
        );
        assert!(o.unchanged.is_empty());
    }

    #[test]
    fn a_stored_version_equal_to_a_late_change_below_it_is_removed_and_kept_aside() {
        // Stored "a" [1, 5) then "b" from 5; "b" arrives at 3: the version at 5 is no longer one.
        let (v, o) = rebuild(&[
            stored(1, Some(5), "a", 0),
            stored(5, None, "b", 1),
            change(3, "b", 0),
        ]);
        let removed: Vec<_> = v.iter().filter(|v| v.remove).map(|v| v.start).collect();
        assert_eq!(removed, [5]);
        assert_eq!(o.unchanged, [From::Stored(1)]);
        let kept: Vec<_> = v
            .iter()
            .filter(|v| !v.remove)
            .map(|v| (v.start, v.end))
            .collect();
        assert_eq!(kept, [(1, Some(3)), (3, None)]);
    }
}
