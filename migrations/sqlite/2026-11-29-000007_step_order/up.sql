-- A case read lists its steps in routine order: with position in the index the rows come out of the
-- index already ordered (id, the tie-breaker, is the row id) and the read needs no sort.
DROP INDEX episode_steps_episode;
CREATE INDEX episode_steps_episode_position ON episode_steps(episode_id, position);
