//! Communication delays implied by a topology: dispatcher → agent (every dispatch) and agent →
//! agent (workflow hand-offs). Delay = hops × per-hop delay; jitter is added by the caller.
//! Hierarchical groups are formed round-robin over agents so each group mixes agent types.

use colony_core::Topology;

#[derive(Debug, Clone)]
pub(crate) struct Links {
    topology: Topology,
    per_hop_s: f64,
    agents: u32,
    groups: u32,
}

impl Links {
    pub fn new(topology: Topology, per_hop_s: f64, agents: u32, group_size: u32) -> Self {
        let groups = agents.div_ceil(group_size.max(1)).max(1);
        Links {
            topology,
            per_hop_s,
            agents,
            groups,
        }
    }

    /// Hops from the dispatcher to agent `a`.
    pub fn dispatch_hops(&self, a: u32) -> u32 {
        match self.topology {
            Topology::Mesh | Topology::Star => 1,
            // The dispatcher sits on the ring just before agent 0.
            Topology::Ring => {
                let ring = self.agents + 1;
                let pos = a + 1;
                pos.min(ring - pos)
            }
            // Dispatcher → group coordinator → agent.
            Topology::Hierarchical => 2,
        }
    }

    /// Hops between two agents.
    pub fn agent_hops(&self, a: u32, b: u32) -> u32 {
        if a == b {
            return 0;
        }
        match self.topology {
            Topology::Mesh => 1,
            Topology::Star => 2,
            Topology::Ring => {
                let ring = self.agents + 1;
                let d = a.abs_diff(b);
                d.min(ring - d)
            }
            Topology::Hierarchical => {
                if a % self.groups == b % self.groups {
                    1
                } else {
                    // agent → its coordinator → the other coordinator → agent
                    3
                }
            }
        }
    }

    pub fn dispatch_delay(&self, a: u32) -> f64 {
        f64::from(self.dispatch_hops(a)) * self.per_hop_s
    }

    pub fn agent_delay(&self, a: u32, b: u32) -> f64 {
        f64::from(self.agent_hops(a, b)) * self.per_hop_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_counts_follow_each_topology() {
        let mesh = Links::new(Topology::Mesh, 0.01, 10, 4);
        assert_eq!((mesh.dispatch_hops(7), mesh.agent_hops(2, 9)), (1, 1));
        let star = Links::new(Topology::Star, 0.01, 10, 4);
        assert_eq!((star.dispatch_hops(7), star.agent_hops(2, 9)), (1, 2));
        let ring = Links::new(Topology::Ring, 0.01, 10, 4);
        // 11 nodes on the ring: dispatcher at 0, agent a at a + 1.
        assert_eq!(ring.dispatch_hops(0), 1);
        assert_eq!(ring.dispatch_hops(9), 1);
        assert_eq!(ring.dispatch_hops(4), 5);
        assert_eq!(ring.agent_hops(0, 9), 2);
        assert_eq!(ring.agent_hops(2, 5), 3);
        let tree = Links::new(Topology::Hierarchical, 0.01, 10, 4);
        // 3 groups: agents 0, 3, 6, 9 share one.
        assert_eq!(tree.dispatch_hops(5), 2);
        assert_eq!(tree.agent_hops(0, 9), 1);
        assert_eq!(tree.agent_hops(0, 1), 3);
        assert_eq!(tree.agent_hops(4, 4), 0);
        assert!((tree.agent_delay(0, 1) - 0.03).abs() < 1e-12);
    }
}
