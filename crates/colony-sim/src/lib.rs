//! Discrete-event swarm simulator (being written).
