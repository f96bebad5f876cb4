//! AMQP routing: fanout, direct, topic (`*` one word, `#` zero or more) and headers exchanges,
//! exchange-to-exchange bindings and alternate exchanges, as RabbitMQ has them.

use super::Engine;
use super::runtime::RouteDest;
use crate::amqp::topic_matches;
use crate::topology::ExchangeType;

impl Engine {
    /// Where `exchange` routes a message with this routing key and headers link: a range of
    /// `self.routes.dests`.
    pub(super) fn route(&mut self, exchange: u32, routing_key: u32, headers: u32) -> std::ops::Range<usize> {
        let key = (exchange, routing_key, headers);
        let (start, len) = match self.routes.map.get(&key) {
            Some(&r) => r,
            None => {
                let mut out = Vec::new();
                let mut visited = vec![false; self.exchanges.len()];
                self.resolve(exchange, routing_key, headers, &mut Vec::new(), &mut visited, &mut out);
                let start = self.routes.dests.len() as u32;
                for (queue, path) in out {
                    let path_start = self.routes.links.len() as u32;
                    self.routes.links.extend_from_slice(&path);
                    self.routes.dests.push(RouteDest { queue, path_start, path_len: path.len() as u32 });
                }
                let r = (start, self.routes.dests.len() as u32 - start);
                self.routes.map.insert(key, r);
                r
            }
        };
        start as usize..(start + len) as usize
    }

    fn resolve(
        &self,
        ex: u32,
        rk: u32,
        headers: u32,
        path: &mut Vec<u32>,
        visited: &mut [bool],
        out: &mut Vec<(u32, Vec<u32>)>,
    ) {
        if std::mem::replace(&mut visited[ex as usize], true) {
            return; // an exchange-binding cycle: RabbitMQ routes through each exchange once.
        }
        let before = out.len();
        let exchange = &self.exchanges[ex as usize];
        let key = self.syms.name(rk);
        let msg_headers = (headers != super::message::NONE).then(|| &self.links[headers as usize].headers);
        for &b in &exchange.bindings {
            let link = &self.links[b as usize];
            let hit = match exchange.kind {
                ExchangeType::Fanout => true,
                ExchangeType::Direct => link.binding_key == key,
                ExchangeType::Topic => topic_matches(&link.binding_key, key),
                ExchangeType::Headers => link.match_.matches(&link.headers, msg_headers),
            };
            if !hit {
                continue;
            }
            path.push(b);
            match self.nodes[link.to as usize].kind {
                // A queue gets one copy however many bindings match.
                super::KindRef::Queue(q) if !out.iter().any(|(dq, _)| *dq == q) => out.push((q, path.clone())),
                super::KindRef::Exchange(next) => self.resolve(next, rk, headers, path, visited, out),
                _ => {}
            }
            path.pop();
        }
        if out.len() == before
            && let Some(alt) = exchange.alternate
            && let super::KindRef::Exchange(next) = self.nodes[self.links[alt as usize].to as usize].kind
        {
            path.push(alt);
            self.resolve(next, rk, headers, path, visited, out);
            path.pop();
        }
    }
}
