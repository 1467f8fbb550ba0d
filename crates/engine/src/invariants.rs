//! Whole-engine invariants, checked after every command in tests and by `peerex check` on a
//! live database. Each returns a message naming the first violation found.

use rustc_hash::FxHashMap;

use crate::engine::Engine;
use crate::exchange::book::{Link, NONE};
use crate::exchange::types::{OfferStatus, SeriesStatus, Side};
use crate::ids::{OfferId, SeriesId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};

impl Engine {
    /// Checks every invariant of the ledger, the books, holds, escrows and positions.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.ledger.check()?;
        self.check_holds()?;
        self.check_series()?;
        self.check_books()?;
        self.markets.check(&self.ledger)?;
        self.exchange.check_makers(&self.ledger)?;
        self.cases.check(&self.ledger, &self.exchange)?;
        self.resources.check(&self.ledger)?;
        Ok(())
    }

    /// Held credits = what open buy offers need; held units = what open sell offers offer.
    fn check_holds(&self) -> Result<(), String> {
        let x = &self.exchange;
        let mut need: FxHashMap<UserId, i64> = FxHashMap::default();
        let mut pool_max: FxHashMap<UserId, i64> = FxHashMap::default();
        let mut units: FxHashMap<(UserId, SeriesId, Side), u64> = FxHashMap::default();
        for (_, o) in x.all_offers() {
            if o.status != OfferStatus::Open {
                continue;
            }
            if o.kind.is_buy() {
                let r = o.requirement().0;
                if o.poolable {
                    let m = pool_max.entry(o.user).or_default();
                    *m = (*m).max(r);
                } else {
                    *need.entry(o.user).or_default() += r;
                }
            } else {
                *units.entry((o.user, o.series, o.kind.side())).or_default() += o.remaining;
            }
        }
        for (user, name) in self.users() {
            let pool = x.trader(user).map_or(0, |t| t.pool_hold.0);
            let expected_pool = pool_max.get(&user).copied().unwrap_or(0);
            if pool != expected_pool {
                return Err(format!(
                    "{name}: pool hold {} but largest pooled requirement {}",
                    Amount(pool),
                    Amount(expected_pool)
                ));
            }
            let expected = need.get(&user).copied().unwrap_or(0) + pool;
            let held = self.ledger.balance(Account::Held(user)).0;
            if held != expected {
                return Err(format!("{name}: held {} but open offers need {}", Amount(held), Amount(expected)));
            }
        }
        for ((user, series), pos) in x.all_positions() {
            for side in [Side::Fixed, Side::Unfixed] {
                let h = pos.side(side);
                let offered = units.get(&(user, series, side)).copied().unwrap_or(0);
                if h.held != offered || h.held > h.units {
                    return Err(format!(
                        "{}: {} units held {} of {} but open sells offer {offered}",
                        self.user_name(user),
                        side.as_str(),
                        h.held,
                        h.units
                    ));
                }
            }
        }
        Ok(())
    }

    /// Escrow = outstanding units x 1 credit; fixed units = unfixed units = series units.
    fn check_series(&self) -> Result<(), String> {
        let x = &self.exchange;
        let mut fixed: FxHashMap<SeriesId, u64> = FxHashMap::default();
        let mut unfixed: FxHashMap<SeriesId, u64> = FxHashMap::default();
        for ((_, s), pos) in x.all_positions() {
            *fixed.entry(s).or_default() += pos.fixed.units;
            *unfixed.entry(s).or_default() += pos.unfixed.units;
        }
        for (id, s) in x.all_series() {
            let escrow = self.ledger.balance(Account::Escrow(id)).0;
            let expected = (s.units as i64) * MICROS_PER_CREDIT;
            if escrow != expected {
                return Err(format!("series {}: escrow {} but {} units outstanding", id.0, Amount(escrow), s.units));
            }
            let (f, u) = (fixed.get(&id).copied().unwrap_or(0), unfixed.get(&id).copied().unwrap_or(0));
            if f != s.units || u != s.units {
                return Err(format!("series {}: {} units but {f} fixed and {u} unfixed held", id.0, s.units));
            }
            if s.status == SeriesStatus::Settled && s.units != 0 {
                return Err(format!("series {} settled with units left", id.0));
            }
            if s.status != SeriesStatus::Open && s.offers.iter().any(|o| x.offer(*o).is_some_and(|o| o.is_live())) {
                return Err(format!("series {} matured with live offers", id.0));
            }
        }
        Ok(())
    }

    /// Every open offer sits on its book exactly once at its price; nothing else does; two
    /// non-AON offers never cross; one user's offers never cross each other.
    fn check_books(&self) -> Result<(), String> {
        let x = &self.exchange;
        let mut seen: FxHashMap<OfferId, u32> = FxHashMap::default();
        for (sid, _) in x.all_series() {
            let Some(book) = x.book(sid) else { return Err(format!("series {} has no book", sid.0)) };
            let mut best_bid: Option<u16> = None;
            let mut best_ask: Option<u16> = None;
            let mut user_bid: FxHashMap<UserId, u16> = FxHashMap::default();
            let mut user_ask: FxHashMap<UserId, u16> = FxHashMap::default();
            for is_bid in [true, false] {
                for (price, level) in book.levels(&x.offers, is_bid) {
                    let price = &price;
                    let mut prev = OfferId(NONE);
                    // A cycle fails the check of the link back at its first repeated offer
                    // (reached from another offer than the first time), so the walk ends.
                    for id in level {
                        let o = x.offer(id).ok_or("book names an unknown offer")?;
                        if o.link.prev != prev {
                            return Err(format!("offer {}'s link back is broken", x.offer_name(id)));
                        }
                        prev = id;
                        *seen.entry(id).or_default() += 1;
                        if o.status != OfferStatus::Open
                            || o.series != sid
                            || o.kind.is_bid() != is_bid
                            || o.book_bp() != *price
                            || o.remaining == 0
                        {
                            return Err(format!("offer {} is misplaced on series {}'s book", x.offer_name(id), sid.0));
                        }
                        let (best, mine) =
                            if is_bid { (&mut best_bid, &mut user_bid) } else { (&mut best_ask, &mut user_ask) };
                        let better = |a: u16, b: u16| if is_bid { a.max(b) } else { a.min(b) };
                        if !o.aon {
                            *best = Some(best.map_or(*price, |b| better(b, *price)));
                        }
                        let m = mine.entry(o.user).or_insert(*price);
                        *m = better(*m, *price);
                    }
                    if prev.0 == NONE {
                        return Err(format!("series {}: empty level {price}", sid.0));
                    }
                }
            }
            if let (Some(b), Some(a)) = (best_bid, best_ask) {
                if b >= a {
                    return Err(format!("series {}: non-AON bid {b} crosses ask {a}", sid.0));
                }
            }
            for (user, b) in &user_bid {
                if let Some(a) = user_ask.get(user) {
                    if b >= a {
                        return Err(format!("series {}: {}'s own offers cross", sid.0, self.user_name(*user)));
                    }
                }
            }
        }
        for (id, o) in x.all_offers() {
            let n = seen.get(&id).copied().unwrap_or(0);
            let expected = u32::from(o.status == OfferStatus::Open);
            if n != expected {
                return Err(format!("offer {} ({:?}) is on the book {n} times", x.offer_name(id), o.status));
            }
            if expected == 0 && o.link != Link::OFF {
                return Err(format!("offer {} ({:?}) is off the book but linked", x.offer_name(id), o.status));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::T;
    use crate::ids::{SeriesId, UserId};

    /// a bought 10 fixed units from b, at 0.5: (the engine, a's position key).
    fn a_holds_10_fixed_units() -> (T, (UserId, SeriesId)) {
        let mut t = T::new(&[("a", "100"), ("b", "100")]);
        t.offer("2026-12-01T10:00:00Z", "f", "a", "buy_fixed", "0.5", 10, json!({}));
        t.offer("2026-12-01T10:00:00Z", "u", "b", "buy_unfixed", "0.5", 10, json!({}));
        let a = t.engine.user_id("a").unwrap();
        let key = *t.engine.exchange.positions.keys().find(|(u, _)| *u == a).unwrap();
        (t, key)
    }

    #[test]
    fn a_series_whose_fixed_or_unfixed_units_differ_from_its_count_is_reported() {
        let (t, key) = a_holds_10_fixed_units();
        for fixed in [true, false] {
            let mut e = t.engine.clone();
            let p = e.exchange.positions.get_mut(&key).unwrap();
            if fixed {
                p.fixed.units += 1;
            } else {
                p.unfixed.units += 1;
            }
            let err = e.check_series().unwrap_err();
            assert!(err.contains("fixed and"), "{err}");
        }
    }

    #[test]
    fn units_held_for_no_open_sell_are_reported() {
        let (t, key) = a_holds_10_fixed_units();
        // a owns 10 fixed units and offers none: holding 1 of them (within what a owns) is wrong.
        let mut e = t.engine.clone();
        e.exchange.positions.get_mut(&key).unwrap().fixed.held = 1;
        let err = e.check_holds().unwrap_err();
        assert!(err.contains("fixed units held 1 of 10 but open sells offer 0"), "{err}");
        // Holding more than it owns is wrong even if open sells offered that many.
        let mut e = t.engine.clone();
        e.exchange.positions.get_mut(&key).unwrap().unfixed.held = 1;
        assert!(e.check_holds().unwrap_err().contains("unfixed units held 1 of 0"));
    }

    #[test]
    fn an_offer_misplaced_on_a_book_in_any_way_is_reported() {
        use crate::exchange::types::{OfferKind, OfferStatus};
        let mut t = T::new(&[("a", "100")]);
        t.offer("2026-12-01T10:00:00Z", "f", "a", "buy_fixed", "0.5", 10, json!({}));
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"offer","id":"g","user":"a","kind":"buy_fixed",
            "issue":crate::exchange::testing::ISSUE,"maturation":"2026-12-20T00:00:00Z","price":"0.5","volume":1}));
        t.engine.check_books().unwrap();
        let f = t.id("f").index();
        let other_series = t.engine.exchange.offers[t.id("g").index()].series;
        type Corrupt = fn(&mut crate::exchange::Offer, crate::ids::SeriesId);
        let corruptions: [(&str, Corrupt); 5] = [
            ("not open", |o, _| o.status = OfferStatus::Suspended),
            ("another series", |o, s| o.series = s),
            ("the other side", |o, _| o.kind = OfferKind::SellFixed),
            ("another price", |o, _| o.price = crate::Price::from_bp(4_000).unwrap()),
            ("nothing left", |o, _| o.remaining = 0),
        ];
        for (what, corrupt) in corruptions {
            let mut e = t.engine.clone();
            corrupt(&mut e.exchange.offers[f], other_series);
            let err = e.check_books().unwrap_err();
            assert!(err.contains("misplaced"), "{what}: {err}");
        }
    }
}
