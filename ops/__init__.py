"""Operations: worker probes, the beat heartbeat, and the transactional outbox every app reuses."""
