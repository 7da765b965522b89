DROP INDEX episode_steps_episode_position;
CREATE INDEX episode_steps_episode ON episode_steps(episode_id);
