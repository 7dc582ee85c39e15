"""Talking to a Jenkins controller (python-jenkins): sync the jobs of jobs/, promote, status."""
