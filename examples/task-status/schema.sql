-- The seed's database: one table, three tasks. Safe to run again.
CREATE DATABASE IF NOT EXISTS flasktest;
CREATE TABLE IF NOT EXISTS flasktest.tasks (
  task_id INT NOT NULL AUTO_INCREMENT,
  task_title VARCHAR(50),
  task_status VARCHAR(50),
  PRIMARY KEY (task_id)
);
DELETE FROM flasktest.tasks;
INSERT INTO flasktest.tasks (task_title, task_status) VALUES
  ('Task 1', 'Success'),
  ('Task 2', 'Pending'),
  ('Task 3', 'Failed');
