DROP TABLE return_conversations;
