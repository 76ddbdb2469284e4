"""The classroom: the lab's settings table and the page table, assignment links, lessons with their questions,
plans and worksheets, the students' predictions, the student glossary, class board numbers and classes,
notebooks, prepare.

May import every library layer below it, ``kdlab.serve`` included."""
