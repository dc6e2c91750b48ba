-- The knowledge tables moved into each generation of the data folder
-- (data/generations/NAME/knowledge.db); state.db keeps the shared state only.
DROP TABLE IF EXISTS conflicts;
DROP TABLE IF EXISTS facts;
DROP TABLE IF EXISTS sentences;
DROP TABLE IF EXISTS passages;
DROP TABLE IF EXISTS documents;
DROP TABLE IF EXISTS knowledge_versions;
