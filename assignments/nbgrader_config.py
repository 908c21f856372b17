"""nbgrader configuration of the course; run nbgrader commands from this folder."""

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "rnn-scratch"
