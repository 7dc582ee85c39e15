// Parses Jenkinsfiles with the Groovy 2.4 parser (the Groovy line Jenkins embeds) and prints, per file,
// either the syntax errors or a small JSON tree of the method calls, assignments and closures in it.
// The declarative rules are applied in Python (ci/jenkinsfile/rules.py); this script only parses.
import groovy.json.JsonOutput
import org.codehaus.groovy.ast.expr.*
import org.codehaus.groovy.ast.stmt.*
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.SyntaxErrorMessage

def pos(node) { [line: node.lineNumber, col: node.columnNumber] }

def value(Expression e) {
    if (e instanceof ConstantExpression) return [t: 'const', value: e.value?.toString()] + pos(e)
    if (e instanceof GStringExpression) return [t: 'gstring', value: e.text] + pos(e)
    if (e instanceof VariableExpression) return [t: 'var', name: e.name] + pos(e)
    if (e instanceof ClosureExpression) return [t: 'closure', body: block(e.code)] + pos(e)
    if (e instanceof MethodCallExpression) return call(e)
    if (e instanceof MapExpression) {
        return [t: 'map', entries: e.mapEntryExpressions.collect { [key: it.keyExpression.text, value: value(it.valueExpression)] }] + pos(e)
    }
    return [t: 'expr', text: e.text, kind: e.class.simpleName] + pos(e)
}

def call(MethodCallExpression m) {
    def args = []
    def named = [:]
    def body = null
    def argExprs = m.arguments instanceof TupleExpression ? m.arguments.expressions : [m.arguments]
    argExprs.each { a ->
        if (a instanceof NamedArgumentListExpression || a instanceof MapExpression) {
            a.mapEntryExpressions.each { named[it.keyExpression.text] = value(it.valueExpression) }
        } else if (a instanceof ClosureExpression) {
            body = block(a.code)
        } else {
            args << value(a)
        }
    }
    def receiver = m.implicitThis ? null : m.objectExpression.text
    return [t: 'call', name: m.methodAsString, receiver: receiver, args: args, named: named, body: body] + pos(m)
}

def statement(Statement s) {
    if (s instanceof ExpressionStatement) {
        def e = s.expression
        if (e instanceof MethodCallExpression) return call(e)
        if (e instanceof DeclarationExpression) return [t: 'declaration', name: e.leftExpression.text] + pos(e)
        if (e instanceof BinaryExpression && e.operation.text == '=') {
            return [t: 'assign', name: e.leftExpression.text, target: e.leftExpression.class.simpleName, value: value(e.rightExpression)] + pos(e)
        }
        return value(e)
    }
    if (s instanceof BlockStatement) return [t: 'block', body: block(s)] + pos(s)
    return [t: 'statement', kind: s.class.simpleName] + pos(s)
}

def block(Statement code) {
    if (code instanceof BlockStatement) return code.statements.collect { statement(it) }
    return code == null ? [] : [statement(code)]
}

def results = args.collect { path ->
    def unit = new CompilationUnit(new CompilerConfiguration())
    unit.addSource(new File(path))
    try {
        unit.compile(Phases.CONVERSION)
    } catch (MultipleCompilationErrorsException ex) {
        def errors = ex.errorCollector.errors.collect { msg ->
            if (msg instanceof SyntaxErrorMessage) {
                def c = msg.cause
                return [line: c.line, col: c.startColumn, message: c.originalMessage]
            }
            if (msg instanceof ExceptionMessage) return [line: 0, col: 0, message: msg.cause.toString()]
            return [line: 0, col: 0, message: msg.toString()]
        }
        return [file: path, errors: errors]
    }
    return [file: path, errors: [], body: block(unit.AST.modules[0].statementBlock)]
}
println JsonOutput.toJson(results)
