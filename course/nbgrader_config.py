# nbgrader configuration for the minitf course (copied into the course directory by
# `python -m course nbgrader-export DIR`; see course/instructor_guide.md).
c = get_config()  # noqa: F821  (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "minitf"
# One notebook per assignment: source/<NN_name>/<NN_name>.ipynb
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# The same stubs `python -m course generate` writes.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Chapters train small models; allow a minute a cell, and keep grading when a cell fails.
c.ExecutePreprocessor.timeout = 60
c.ExecutePreprocessor.interrupt_on_timeout = True
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
